package block

import (
	"encoding/binary"

	"github.com/clew-tracing/clew/internal/model"
)

// The bloom file is a blocked Bloom filter of the block's trace IDs (see
// docs/storage-format.md), so that a lookup of a trace the block does not
// hold costs a hash and one cache line instead of a read of the trace
// column:
//
//	magic "CLWF" | version u8 | probes u8 | uvarint(nBlocks) |
//	nBlocks * 8 * u64le | crc32c u32
//
// A trace ID hashes to h = traceHash(id); it selects filter block
// (h>>32)*nBlocks>>32 and sets probes bits of its 512, at
// (a + i*b) mod 512 for i < probes, where p = mix64(h), a = low 32 bits of
// p and b = high 32 bits of p, made odd. The file is optional: a block
// without it (written before it existed) is read without a filter.

// BloomFile holds the block's trace-ID filter. It is optional: meta.json
// lists it when the block has one.
const BloomFile = "bloom"

const (
	magicBloom = "CLWF"
	// bloomBitsPerTrace sizes the filter: with bloomProbes probes in
	// 512-bit blocks, about 1% of absent IDs pass.
	bloomBitsPerTrace = 10
	bloomProbes       = 7
	bloomBlockWords   = 8 // 512 bits: one cache line
	bloomSeed         = 0x636c65772d62666c
	maxBloomProbes    = 16
)

// mix64 is the MurmurHash3 64-bit finaliser: every input bit affects every
// output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// traceHash hashes a trace ID for the filter. Sequential or otherwise
// structured IDs (some generators put a time or a counter in them) hash
// as well as random ones.
func traceHash(id model.TraceID) uint64 {
	hi := binary.LittleEndian.Uint64(id[:8])
	lo := binary.LittleEndian.Uint64(id[8:])
	return mix64(hi ^ mix64(lo^bloomSeed))
}

// bloom is a decoded (or building) filter.
type bloom struct {
	words  []uint64 // len = bloomBlockWords * number of blocks
	probes int
}

// newBloom returns an empty filter sized for n traces.
func newBloom(n int) *bloom {
	blocks := max(1, (n*bloomBitsPerTrace+511)/512)
	return &bloom{words: make([]uint64, blocks*bloomBlockWords), probes: bloomProbes}
}

// locate returns the filter block of h and the probe sequence's start and
// step.
func (f *bloom) locate(h uint64) (blk []uint64, a, b uint32) {
	n := uint64(len(f.words) / bloomBlockWords)
	i := (h >> 32) * n >> 32 // in [0, n): n < 2^32
	p := mix64(h)
	return f.words[i*bloomBlockWords : (i+1)*bloomBlockWords], uint32(p), uint32(p>>32) | 1
}

// add inserts the trace with hash h.
func (f *bloom) add(h uint64) {
	blk, a, b := f.locate(h)
	for range f.probes {
		bit := a & 511
		blk[bit>>6] |= 1 << (bit & 63)
		a += b
	}
}

// has reports whether the trace with hash h may be in the block.
func (f *bloom) has(h uint64) bool {
	blk, a, b := f.locate(h)
	for range f.probes {
		bit := a & 511
		if blk[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		a += b
	}
	return true
}

// marshalBloom renders the bloom file.
func marshalBloom(f *bloom) []byte {
	b := make([]byte, 0, headerLen+2+binary.MaxVarintLen64+8*len(f.words)+crcLen)
	b = append(b, magicBloom...)
	b = append(b, FormatVersion, byte(f.probes))
	b = appendUvarint(b, uint64(len(f.words)/bloomBlockWords))
	for _, w := range f.words {
		b = appendU64(b, w)
	}
	return appendU32(b, crc32c(b))
}

// parseBloom decodes and verifies a bloom file.
func parseBloom(c []byte) (*bloom, error) {
	if len(c) < headerLen+1+crcLen || string(c[:4]) != magicBloom || c[4] != FormatVersion {
		return nil, errMalformed
	}
	body := c[:len(c)-crcLen]
	tr := newReaderAt(c, len(body))
	if crc32c(body) != tr.u32() {
		return nil, errChecksum
	}
	r := newReader(body[headerLen:])
	probes := int(r.byte())
	blocks := r.uvarint()
	if r.err != nil || probes < 1 || probes > maxBloomProbes || blocks == 0 || blocks >= 1<<32 ||
		uint64(r.remaining()) != blocks*8*bloomBlockWords {
		return nil, errMalformed
	}
	f := &bloom{words: make([]uint64, blocks*bloomBlockWords), probes: probes}
	for i := range f.words {
		f.words[i] = binary.LittleEndian.Uint64(r.bytes(8))
	}
	if !r.done() {
		return nil, errMalformed
	}
	return f, nil
}
