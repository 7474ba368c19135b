package logsub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"promiseledger/eventstore"
)

// A message payload is a batch of records in a small length-prefixed binary
// form: exact bytes, no base64, cheap to write and read.
//
//	count uvarint, then per record:
//	id [16] | commit uvarint | prepare uvarint | version uvarint | stored_at varint (unix ns)
//	stream, type, data, metadata: each uvarint length + bytes

// Encode writes a batch as a payload.
func Encode(batch []eventstore.Recorded) []byte {
	size := 10
	for _, r := range batch {
		size += 16 + 5*binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 + len(r.Stream) + len(r.Type) + len(r.Data) + len(r.Metadata)
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, r := range batch {
		b = append(b, r.ID[:]...)
		b = binary.AppendUvarint(b, r.Position.Commit)
		b = binary.AppendUvarint(b, r.Position.Prepare)
		b = binary.AppendUvarint(b, uint64(r.Version))
		b = binary.AppendVarint(b, r.StoredAt.UnixNano())
		for _, f := range [][]byte{[]byte(r.Stream), []byte(r.Type), r.Data, r.Metadata} {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	return b
}

var errCorrupt = errors.New("logsub: corrupt batch payload")

// Decode reads a payload written by Encode.
func Decode(b []byte) ([]eventstore.Recorded, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	out := make([]eventstore.Recorded, 0, n)
	for range n {
		var r eventstore.Recorded
		copy(r.ID[:], d.bytes(16))
		r.Position.Commit = d.uvarint()
		r.Position.Prepare = d.uvarint()
		r.Version = int64(d.uvarint())
		r.StoredAt = time.Unix(0, d.varint()).UTC()
		r.Stream = string(d.field())
		r.Type = string(d.field())
		r.Data = d.field()
		r.Metadata = d.field()
		if d.err != nil {
			return nil, d.err
		}
		out = append(out, r)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return out, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.err = errCorrupt
		return make([]byte, n)
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) field() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	return d.bytes(int(n))
}
