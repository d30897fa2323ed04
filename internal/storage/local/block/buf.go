package block

import (
	"encoding/binary"
	"math"
)

// This file holds the byte-level primitives shared by every encoder and
// decoder: append-style writers and a bounds-checked reader with a sticky
// error, so that decoders of untrusted data stay short and never panic.

func appendUvarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return binary.AppendUvarint(b, v)
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func appendBytes(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes untrusted bytes. Every method bounds-checks; on the first
// failure it records errMalformed and from then on returns zero values, so a
// decoder can read a whole structure and check err once.
type reader struct {
	b   []byte
	i   int
	err error
}

func newReader(b []byte) reader { return reader{b: b} }

func (r *reader) fail() {
	if r.err == nil {
		r.err = errMalformed
	}
	r.i = len(r.b)
}

// remaining returns the number of unread bytes.
func (r *reader) remaining() int { return len(r.b) - r.i }

// done reports whether every byte was consumed without error.
func (r *reader) done() bool { return r.err == nil && r.i == len(r.b) }

func (r *reader) uvarint() uint64 {
	if r.i < len(r.b) {
		if c := r.b[r.i]; c < 0x80 {
			r.i++
			return uint64(c)
		}
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.i += n
	return v
}

// skip1 skips one varint without decoding it.
func (r *reader) skip1() {
	b, i := r.b, r.i
	for i < len(b) && b[i] >= 0x80 {
		i++
	}
	if i >= len(b) {
		r.fail()
		return
	}
	r.i = i + 1
}

// skipUvarints skips n varints.
func (r *reader) skipUvarints(n int) {
	b := r.b
	i := r.i
	for ; n > 0; n-- {
		j := i
		for j < len(b) && b[j] >= 0x80 {
			j++
		}
		if j >= len(b) || j-i >= binary.MaxVarintLen64 {
			r.fail()
			return
		}
		i = j + 1
	}
	r.i = i
}

func (r *reader) varint() int64 { return unzigzag(r.uvarint()) }

// u32v reads a varint that must fit in 32 bits.
func (r *reader) u32v() uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail()
		return 0
	}
	return uint32(v)
}

// count reads a length or count that needs at least minBytes of remaining
// input per unit, so that a corrupt count cannot make the caller allocate
// more than the input could describe.
func (r *reader) count(minBytes int) int {
	v := r.uvarint()
	if minBytes < 1 {
		minBytes = 1
	}
	if v > uint64(r.remaining()/minBytes) {
		r.fail()
		return 0
	}
	return int(v)
}

// index reads a varint that must be below n.
func (r *reader) index(n int) int {
	v := r.uvarint()
	if v >= uint64(n) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > r.remaining() {
		r.fail()
		return nil
	}
	b := r.b[r.i : r.i+n : r.i+n]
	r.i += n
	return b
}

func (r *reader) skip(n int) {
	if n < 0 || n > r.remaining() {
		r.fail()
		return
	}
	r.i += n
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// lenBytes reads a length-prefixed byte string.
func (r *reader) lenBytes() []byte {
	n := r.count(1)
	return r.bytes(n)
}

// splitStreams splits a section payload into its n length-prefixed streams.
func splitStreams(payload []byte, dst [][]byte) error {
	r := newReader(payload)
	for i := range dst {
		dst[i] = r.lenBytes()
	}
	if !r.done() {
		return errMalformed
	}
	return nil
}

// appendStreams writes streams as one section payload.
func appendStreams(dst []byte, streams ...[]byte) []byte {
	for _, s := range streams {
		dst = appendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}
