package wal

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// On-disk format constants. See docs/format/wal.md for the byte diagrams.
const (
	// segmentMagic opens every segment file so that a stray file is never
	// mistaken for a segment.
	segmentMagic = "CLEWWAL"
	// formatVersion follows the magic. Bump it on any incompatible change to
	// the segment or record layout.
	formatVersion byte = 1
	// segmentHeaderSize is the number of bytes before the first record:
	// the magic and the version byte. (Untyped, unlike len(segmentMagic)+1,
	// so that it mixes with int64 offsets; a test checks the sum.)
	segmentHeaderSize = 8

	// recordLengthSize is the size of a record's little-endian payload length.
	recordLengthSize = 4
	// recordCRCSize is the size of a record's CRC-32C of the payload.
	recordCRCSize = 4
	// recordHeaderSize is the framing in front of every payload.
	recordHeaderSize = recordLengthSize + recordCRCSize

	// segmentNameDigits is the width of a zero-padded segment file name,
	// which makes lexical and numeric order agree.
	segmentNameDigits = 8
	// maxSegmentIndex is the largest index that fits in a segment name.
	maxSegmentIndex = 99_999_999
)

// Size limits and defaults.
const (
	// MaxRecordSize is the largest payload [Log.Append] accepts. It bounds
	// the memory replay needs for one record, and lets replay reject a
	// corrupt length field without reading it.
	MaxRecordSize = 64 << 20
	// DefaultSegmentSize is used when [Options.SegmentSize] is zero.
	DefaultSegmentSize = 128 << 20
	// MinSegmentSize is the smallest [Options.SegmentSize] accepted; smaller
	// segments would spend more on files and fsyncs than on records.
	MinSegmentSize = 1 << 10
	// DefaultFsyncInterval is used when [Options.FsyncInterval] is zero.
	DefaultFsyncInterval = time.Second
)

// Buffer sizes used by the implementation.
const (
	// replayBufferSize is the read-ahead buffer of Replay.
	replayBufferSize = 1 << 20
	// maxRetainedBatchBuffer caps the batch buffer the writer keeps for
	// reuse, so that one burst does not pin memory forever.
	maxRetainedBatchBuffer = 16 << 20
	// replayCtxCheckEvery is how many records Replay reads between checks
	// of its context.
	replayCtxCheckEvery = 256
)

// segmentHeader returns the bytes every segment starts with.
func segmentHeader() [segmentHeaderSize]byte {
	var h [segmentHeaderSize]byte
	copy(h[:], segmentMagic)
	h[len(segmentMagic)] = formatVersion
	return h
}

// checksum is the record checksum: CRC-32 with the Castagnoli polynomial,
// which has hardware support on amd64 and arm64.
func checksum(p []byte) uint32 {
	// NB: MakeTable caches the Castagnoli table, so this does not allocate.
	return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli))
}

// appendRecord appends the framed record (length, CRC, payload) to dst.
func appendRecord(dst, payload []byte, crc uint32) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, payload...)
}

// decodeRecordHeader splits a record header into payload length and CRC.
func decodeRecordHeader(h []byte) (length, crc uint32) {
	return binary.LittleEndian.Uint32(h[:recordLengthSize]),
		binary.LittleEndian.Uint32(h[recordLengthSize:recordHeaderSize])
}
