package translog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

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

// DecodeLeaf is the inverse of EncodeLeaf: it reads the event back from
// its leaf bytes (all but the position, which the leaf leaves out). It
// fails on bytes that EncodeLeaf could not have written.
func DecodeLeaf(b []byte) (eventstore.Recorded, error) {
	var r eventstore.Recorded
	if !bytes.HasPrefix(b, []byte(LeafPrefix)) {
		return r, errors.New("translog: leaf bytes: no leaf-v1 prefix")
	}
	rest := b[len(LeafPrefix):]
	var fields [7][]byte
	for i := range fields {
		if len(rest) < 4 {
			return r, fmt.Errorf("translog: leaf bytes: field %d is cut short", i)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return r, fmt.Errorf("translog: leaf bytes: field %d is cut short", i)
		}
		fields[i], rest = rest[:n:n], rest[n:]
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("translog: leaf bytes: %d bytes after the last field", len(rest))
	}
	version, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil || strconv.FormatInt(version, 10) != string(fields[1]) {
		return r, fmt.Errorf("translog: leaf bytes: version %q", fields[1])
	}
	id, err := uuid.Parse(string(fields[5]))
	if err != nil || id.String() != string(fields[5]) {
		return r, fmt.Errorf("translog: leaf bytes: event id %q", fields[5])
	}
	ns, err := strconv.ParseInt(string(fields[6]), 10, 64)
	if err != nil || strconv.FormatInt(ns, 10) != string(fields[6]) {
		return r, fmt.Errorf("translog: leaf bytes: stored at %q", fields[6])
	}
	return eventstore.Recorded{
		ID: id, Stream: string(fields[0]), Version: version, Type: string(fields[2]),
		Data: bytes.Clone(fields[3]), Metadata: bytes.Clone(fields[4]), StoredAt: time.Unix(0, ns).UTC(),
	}, nil
}
