package logsub_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/eventstore/memory"
	"promiseledger/projections/logsub"
)

func appendN(t *testing.T, s eventstore.Store, stream string, n int) {
	t.Helper()
	for i := range n {
		_, err := s.Append(context.Background(), stream, eventstore.Any(), []eventstore.Event{{
			ID: uuid.Must(uuid.NewV7()), Type: "t.v1", Data: []byte(fmt.Sprintf(`{"i":%d}`, i)), Metadata: []byte{0, 1, 2},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	s := memory.New()
	appendN(t, s, "a", 5)
	recs, err := s.ReadAll(context.Background(), eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, err := logsub.Decode(logsub.Encode(recs))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		a, b := recs[i], got[i]
		if a.ID != b.ID || a.Stream != b.Stream || a.Version != b.Version || a.Position != b.Position || a.Type != b.Type ||
			!bytes.Equal(a.Data, b.Data) || !bytes.Equal(a.Metadata, b.Metadata) || !a.StoredAt.Equal(b.StoredAt) {
			t.Fatalf("record %d: got %+v, want %+v", i, b, a)
		}
	}
	enc := logsub.Encode(recs)
	for _, cut := range []int{0, 1, len(enc) / 2, len(enc) - 1} {
		if _, err := logsub.Decode(enc[:cut]); err == nil && cut > 0 {
			t.Errorf("truncated payload (%d of %d bytes) decoded without error", cut, len(enc))
		}
	}
	if _, err := logsub.Decode(append(enc, 0)); err == nil {
		t.Error("payload with trailing bytes decoded without error")
	}
}

// TestNackRedeliversAndCheckpointResumes: a nacked batch comes again, whole;
// a new subscription starts after the checkpoint it is given.
func TestNackRedeliversAndCheckpointResumes(t *testing.T) {
	s := memory.New()
	appendN(t, s, "a", 3)
	var checkpoint eventstore.Position
	sub, err := logsub.NewSubscriberWithConfig(logsub.Config{
		Store:      s,
		Checkpoint: func(context.Context, string) (eventstore.Position, error) { return checkpoint, nil },
		NackDelay:  time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := sub.Subscribe(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	first := <-msgs
	batch1, _ := logsub.Decode(first.Payload)
	first.Nack()
	again := <-msgs
	batch2, _ := logsub.Decode(again.Payload)
	if len(batch1) == 0 || len(batch2) != len(batch1) || batch2[0].ID != batch1[0].ID {
		t.Fatalf("nacked batch of %d not redelivered whole (got %d)", len(batch1), len(batch2))
	}
	again.Ack()
	checkpoint = batch2[len(batch2)-1].Position
	seen := len(batch2)
	for seen < 3 {
		m := <-msgs
		b, _ := logsub.Decode(m.Payload)
		seen += len(b)
		checkpoint = b[len(b)-1].Position
		m.Ack()
	}
	cancel()
	for range msgs {
	}
	appendN(t, s, "a", 2)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	msgs2, err := sub.Subscribe(ctx2, "c")
	if err != nil {
		t.Fatal(err)
	}
	m := <-msgs2
	b, _ := logsub.Decode(m.Payload)
	if b[0].Version != 4 {
		t.Fatalf("resumed at version %d, want 4 (right after the checkpoint)", b[0].Version)
	}
	m.Ack()
}
