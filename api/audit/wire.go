package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
	"promiseledger/projections/translog"
)

// The JSON the handler serves and the client reads. Hashes are standard
// base64, like in checkpoints.

// CheckpointRef names a checkpoint.
type CheckpointRef struct {
	Origin   string `json:"origin"`
	TreeSize int64  `json:"tree_size"`
	RootHash string `json:"root_hash"`
}

func refOf(c translog.Checkpoint) CheckpointRef {
	return CheckpointRef{Origin: c.Origin, TreeSize: c.TreeSize, RootHash: c.RootHash.String()}
}

// Event is one logged event as served: the leaf and the event the store
// holds for it now. DataBase64 and MetadataBase64 are the exact bytes that
// were hashed; Data and Metadata repeat them as JSON when they are JSON.
type Event struct {
	LeafIndex int64  `json:"leaf_index"`
	EventID   string `json:"event_id"`
	LeafHash  string `json:"leaf_hash"`
	// Missing is true when the store no longer has the event; then only
	// the leaf's own fields (stream, version, type) are given.
	Missing bool   `json:"missing,omitempty"`
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
	Type    string `json:"type"`
	// StoredAt is the store's commit time; StoredAtNS the same instant in
	// nanoseconds since 1970 (decimal text), which is what the leaf hashes.
	StoredAt       string          `json:"stored_at,omitempty"`
	StoredAtNS     string          `json:"stored_at_ns,omitempty"`
	Position       string          `json:"position,omitempty"`
	DataBase64     string          `json:"data_base64,omitempty"`
	MetadataBase64 string          `json:"metadata_base64,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	// Proof is the inclusion proof of the leaf in the checkpoint (stream
	// history only).
	Proof []string `json:"proof,omitempty"`
}

func eventOf(fe translog.FeedEvent) Event {
	e := Event{
		LeafIndex: fe.Leaf.Index, EventID: fe.Leaf.EventID.String(), LeafHash: fe.Leaf.Hash.String(),
		Missing: !fe.Present, Stream: fe.Leaf.Stream, Version: fe.Leaf.Version, Type: fe.Leaf.Type,
	}
	if !fe.Present {
		return e
	}
	r := fe.Event
	e.Stream, e.Version, e.Type = r.Stream, r.Version, r.Type
	e.StoredAt = r.StoredAt.UTC().Format(time.RFC3339Nano)
	e.StoredAtNS = strconv.FormatInt(r.StoredAt.UnixNano(), 10)
	e.Position = r.Position.String()
	e.DataBase64 = base64.StdEncoding.EncodeToString(r.Data)
	e.MetadataBase64 = base64.StdEncoding.EncodeToString(r.Metadata)
	if len(r.Data) > 0 && json.Valid(r.Data) {
		e.Data = r.Data
	}
	if len(r.Metadata) > 0 && json.Valid(r.Metadata) {
		e.Metadata = r.Metadata
	}
	return e
}

// Recorded rebuilds the stored event from its served form, as the leaf
// encoding needs it.
func (e Event) Recorded() (eventstore.Recorded, error) {
	var r eventstore.Recorded
	if e.Missing {
		return r, fmt.Errorf("leaf %d: the event is missing", e.LeafIndex)
	}
	id, err := uuid.Parse(e.EventID)
	if err != nil {
		return r, fmt.Errorf("leaf %d: event id: %w", e.LeafIndex, err)
	}
	ns, err := strconv.ParseInt(e.StoredAtNS, 10, 64)
	if err != nil {
		return r, fmt.Errorf("leaf %d: stored_at_ns: %w", e.LeafIndex, err)
	}
	data, err := base64.StdEncoding.DecodeString(e.DataBase64)
	if err != nil {
		return r, fmt.Errorf("leaf %d: data_base64: %w", e.LeafIndex, err)
	}
	meta, err := base64.StdEncoding.DecodeString(e.MetadataBase64)
	if err != nil {
		return r, fmt.Errorf("leaf %d: metadata_base64: %w", e.LeafIndex, err)
	}
	pos, _ := eventstore.ParsePosition(e.Position)
	return eventstore.Recorded{
		ID: id, Stream: e.Stream, Version: e.Version, Type: e.Type, Data: data, Metadata: meta,
		StoredAt: time.Unix(0, ns).UTC(), Position: pos,
	}, nil
}

// EventsPage is one page of GET /events.
type EventsPage struct {
	// Checkpoint is the latest checkpoint: events with a smaller leaf index
	// can be proved in it.
	Checkpoint *CheckpointRef `json:"checkpoint"`
	// Items are the page's events, in log order.
	Items []Event `json:"items"`
	// NextCursor continues the listing (null on the last page).
	NextCursor *string `json:"next_cursor"`
}

// ExportHeader is the first line of GET /events.ndjson.
type ExportHeader struct {
	Format     string        `json:"format"`
	Checkpoint CheckpointRef `json:"checkpoint"`
	// Note is the signed checkpoint, with cosignatures.
	Note string `json:"note"`
}

// ExportEnd is the last line of GET /events.ndjson: without it the
// download was cut short.
type ExportEnd struct {
	Events int64 `json:"events"`
}

// exportFormat names the layout of the NDJSON and CSV exports.
const exportFormat = "promiseledger-events-v1"

// InclusionProof is the answer of GET /proof/inclusion.
type InclusionProof struct {
	LeafIndex int64  `json:"leaf_index"`
	EventID   string `json:"event_id"`
	TreeSize  int64  `json:"tree_size"`
	LeafHash  string `json:"leaf_hash"`
	// RootHash is the server's tree hash at TreeSize, for convenience:
	// check the proof against a signed checkpoint, not against this.
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

// ConsistencyProof is the answer of GET /proof/consistency.
type ConsistencyProof struct {
	OldSize int64    `json:"old_size"`
	NewSize int64    `json:"new_size"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

// StreamHistory is one page of GET /streams/{stream}/history.
type StreamHistory struct {
	Stream     string        `json:"stream"`
	Checkpoint CheckpointRef `json:"checkpoint"`
	Note       string        `json:"note"`
	// CurrentVersion is the stream's version in the store now; events
	// above the checkpoint's last one are not in this history yet.
	CurrentVersion *int64 `json:"current_version,omitempty"`
	// Items are the page's events, each with its inclusion proof.
	Items []Event `json:"items"`
	// NextCursor continues the history (null on the last page): ask
	// again with cursor=NextCursor and the same checkpoint.
	NextCursor *string `json:"next_cursor"`
}

// CosignatureReceipt is the answer of POST /cosignatures.
type CosignatureReceipt struct {
	TreeSize  int64    `json:"tree_size"`
	Witnesses []string `json:"witnesses"`
}

func hashesB64[T ~[]tlog.Hash](hs T) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("hash %d: %w", i, err)
		}
		out[i] = h
	}
	return out, nil
}
