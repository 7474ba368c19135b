package translog

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
)

// LeafPrefix starts every leaf of version 1 of the encoding. A new encoding
// gets a new prefix (and a new projector name), never a change to this one:
// the hashes of a published log must stay reproducible forever.
const LeafPrefix = "promiseledger-leaf-v1\n"

// EncodeLeaf returns the canonical bytes of a stored event, the input of its
// leaf hash. docs/audit.md specifies it; change nothing here without a new
// version:
//
//	"promiseledger-leaf-v1\n"
//	field(stream) field(version) field(type) field(data) field(metadata)
//	field(event id) field(stored at)
//
// where field(b) is len(b) as a 4-byte big-endian integer followed by b;
// version is decimal ASCII; the event id is its 36-character lower-case
// text; stored at is the store's commit time as decimal ASCII nanoseconds
// since 1970-01-01T00:00:00Z. The position is left out on purpose: it
// belongs to one adapter, while the leaf index already fixes the order.
func EncodeLeaf(r eventstore.Recorded) []byte {
	version := strconv.FormatInt(r.Version, 10)
	storedAt := strconv.FormatInt(r.StoredAt.UnixNano(), 10)
	id := r.ID.String()
	size := len(LeafPrefix) + 7*4 + len(r.Stream) + len(version) + len(r.Type) + len(r.Data) + len(r.Metadata) + len(id) + len(storedAt)
	b := make([]byte, 0, size)
	b = append(b, LeafPrefix...)
	b = appendField(b, r.Stream)
	b = appendField(b, version)
	b = appendField(b, r.Type)
	b = appendField(b, r.Data)
	b = appendField(b, r.Metadata)
	b = appendField(b, id)
	b = appendField(b, storedAt)
	return b
}

func appendField[T string | []byte](b []byte, v T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// LeafHash is the RFC 6962 leaf hash of an event: SHA-256(0x00 ||
// EncodeLeaf(r)).
func LeafHash(r eventstore.Recorded) tlog.Hash {
	return tlog.RecordHash(EncodeLeaf(r))
}

// maxField is the largest field the encoding can carry; PostgreSQL's bytea
// stops at 1 GiB, far below.
const maxField = 1<<32 - 1

// checkEncodable reports events whose fields the encoding cannot carry.
func checkEncodable(r eventstore.Recorded) error {
	if len(r.Data) > maxField || len(r.Metadata) > maxField || len(r.Stream) > maxField || len(r.Type) > maxField {
		return fmt.Errorf("event %s: a field is longer than %d bytes", r.ID, maxField)
	}
	return nil
}
