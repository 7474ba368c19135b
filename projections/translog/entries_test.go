package translog_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/projections/translog"
	"promiseledger/projections/translog/logtest"
)

// TestFeedServesTheLogsOwnCopy: the feed serves the bytes the log hashed,
// kept in its own table, not the event store's rows: after the events
// table is changed and a row deleted, every leaf of the feed still comes
// with its event, whose bytes hash to the leaf. (The feed once joined the
// events table, so with KurrentDB, where that table is empty, it served
// nothing but missing events.) VerifyDatabase still sees the change.
func TestFeedServesTheLogsOwnCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	ids := e.Append(t, 30)
	e.CatchUp(t, 7)
	want := e.Events(t)
	e.Tamper(t,
		fmt.Sprintf(`UPDATE events SET data = convert_to('{"value":-1}', 'UTF8') WHERE event_id = '%s'`, ids[4]),
		fmt.Sprintf(`DELETE FROM events WHERE event_id = '%s'`, ids[9]))
	var n int
	err := translog.ScanFeed(ctx, e.DB, translog.FeedFilter{After: -1, PageSize: 8}, func(fe translog.FeedEvent) error {
		w := want[fe.Leaf.Index]
		switch {
		case !fe.Present:
			t.Errorf("leaf %d: served as missing", fe.Leaf.Index)
		case translog.LeafHash(fe.Event) != fe.Leaf.Hash:
			t.Errorf("leaf %d: the served event does not hash to its leaf", fe.Leaf.Index)
		case !bytes.Equal(fe.Event.Data, w.Data) || fe.Event.Position != w.Position || !fe.Event.StoredAt.Equal(w.StoredAt):
			t.Errorf("leaf %d: served %+v, logged %+v", fe.Leaf.Index, fe.Event, w)
		}
		n++
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("ScanFeed: %d leaves, %v; want %d", n, err, len(want))
	}
	rep, err := translog.VerifyDatabase(ctx, e.DB, e.Store)
	if err != nil || rep.OK() {
		t.Errorf("VerifyDatabase after tampering: %v, %+v: want the changed and the deleted event", err, rep.Mismatches)
	}
}

// TestLeafBytesInSQLMatchEncodeLeaf: migration 0003 gives leaves logged
// before it their copy by encoding the events table's rows in SQL; that
// encoding must be EncodeLeaf's, byte for byte, hostile text included.
func TestLeafBytesInSQLMatchEncodeLeaf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := logtest.New(t)
	e.Append(t, 40)
	hostile := eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: "тип.événement\u200b.v1",
		Data: []byte{0, 0xff, '\n', 0x80}, Metadata: []byte(`{"actor_id":"Ақмола \"<x>\"","recorded_at":"2021-03-01T00:00:00.123456Z"}`)}
	if _, err := e.Store.Append(ctx, "roadmap-Ақмола/😀", eventstore.Any(), []eventstore.Event{hostile}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.Events(t) {
		var got []byte
		err := e.DB.QueryRowContext(ctx, `SELECT translog_leaf_bytes(stream_id, version, type, data, metadata, event_id, stored_at)
FROM events WHERE event_id = $1`, ev.ID).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if want := translog.EncodeLeaf(ev); !bytes.Equal(got, want) {
			t.Errorf("event %s: SQL encoding\n%q\nwant\n%q", ev.ID, got, want)
		}
	}
}

// TestDecodeLeafInvertsEncodeLeaf, and refuses what EncodeLeaf cannot
// have written.
func TestDecodeLeafInvertsEncodeLeaf(t *testing.T) {
	t.Parallel()
	r := eventstore.Recorded{ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), Stream: "indicator-Ақмола", Version: 12,
		Type: "indicator.progress_reported.v1", Data: []byte(`{"done":true}`), Metadata: []byte{},
		StoredAt: time.Date(2021, 3, 1, 9, 0, 0, 123456789, time.UTC)}
	b := translog.EncodeLeaf(r)
	got, err := translog.DecodeLeaf(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(translog.EncodeLeaf(got), b) || got.ID != r.ID || got.Stream != r.Stream || got.Version != r.Version ||
		!got.StoredAt.Equal(r.StoredAt) || got.Metadata == nil {
		t.Errorf("DecodeLeaf(EncodeLeaf(r)) = %+v, want %+v", got, r)
	}
	for name, bad := range map[string][]byte{
		"empty":          nil,
		"other prefix":   append([]byte("promiseledger-leaf-v2\n"), b[len(translog.LeafPrefix):]...),
		"cut short":      b[:len(b)-3],
		"trailing bytes": append(bytes.Clone(b), 0),
		"version +12":    bytes.Replace(b, []byte("\x00\x00\x00\x0212"), []byte("\x00\x00\x00\x03+12"), 1),
	} {
		if _, err := translog.DecodeLeaf(bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
