package storetest

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"promiseledger/eventstore"
)

// randomBytes returns n bytes that are neither text nor JSON.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// testLargeEvent: 1 MiB of data and of metadata round-trip byte for byte.
func testLargeEvent(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("large")

	ev := eventstore.Event{ID: uuid.New(), Type: eventType, Data: randomBytes(1<<20, 1), Metadata: randomBytes(1<<20, 2)}
	mustAppend(t, ctx, s, stream, eventstore.NoStream(), []eventstore.Event{ev})
	assertEvents(t, "ReadStream", readStream(t, ctx, s, stream), stream, 1, []eventstore.Event{ev})
	assertEvents(t, "ReadAll", readLog(t, ctx, s, 1), stream, 1, []eventstore.Event{ev})
}

// testBinaryData: the store keeps data and metadata as opaque bytes: not
// text, not JSON, not normalised.
func testBinaryData(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"invalid UTF-8", []byte{'a', 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82}},
		{"NUL bytes", []byte("a\x00b\x00")},
		{"every byte value", all},
		{"JSON with an escaped NUL", []byte(`{"a":"\u0000"}`)},
		{"JSON with odd spacing, key order and a repeated key", []byte("{ \"b\" : 1,\"a\":2 ,\"a\":3}\n")},
		{"JSON number in exponent form", []byte(`{"n":1.0E+2,"m":-0}`)},
		{"text that is not JSON", []byte("not json at all")},
		{"text that looks like bytea hex", []byte(`\x00ff`)},
		{"byte order mark", []byte("\xef\xbb\xbf{}")},
		{"empty", []byte{}},
	}
	var want []eventstore.Event
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := streamName("binary")
			meta := bytes.Clone(c.bytes)
			ev := eventstore.Event{ID: uuid.New(), Type: eventType, Data: c.bytes, Metadata: meta}
			mustAppend(t, ctx, s, stream, eventstore.NoStream(), []eventstore.Event{ev})
			assertEvents(t, "ReadStream", readStream(t, ctx, s, stream), stream, 1, []eventstore.Event{ev})
			want = append(want, ev)
		})
	}
	log := readLog(t, ctx, s, len(want))
	if len(log) != len(want) {
		t.Fatalf("ReadAll: %d events, want %d", len(log), len(want))
	}
	for i, r := range log {
		if !bytes.Equal(r.Data, want[i].Data) || !bytes.Equal(r.Metadata, want[i].Metadata) {
			t.Errorf("ReadAll: event %d: data %s, metadata %s; want %s for both", i, abbrev(r.Data), abbrev(r.Metadata), abbrev(want[i].Data))
		}
	}
}

// testBuffersNotShared: the store neither keeps the caller's slices nor hands
// out its own: changing them afterwards changes nothing stored.
func testBuffersNotShared(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	stream := streamName("buffers")

	data, meta := []byte(`{"v":"original"}`), []byte(`{"m":"original"}`)
	ev := eventstore.Event{ID: uuid.New(), Type: eventType, Data: bytes.Clone(data), Metadata: bytes.Clone(meta)}
	mustAppend(t, ctx, s, stream, eventstore.NoStream(), []eventstore.Event{ev})
	clear(ev.Data)
	clear(ev.Metadata)

	stored := eventstore.Event{ID: ev.ID, Type: eventType, Data: data, Metadata: meta}
	for _, r := range readStream(t, ctx, s, stream) {
		clear(r.Data)
		clear(r.Metadata)
	}
	for _, r := range readLog(t, ctx, s, 1) {
		clear(r.Data)
		clear(r.Metadata)
	}
	assertEvents(t, "ReadStream", readStream(t, ctx, s, stream), stream, 1, []eventstore.Event{stored})
	assertEvents(t, "ReadAll", readLog(t, ctx, s, 1), stream, 1, []eventstore.Event{stored})
}
