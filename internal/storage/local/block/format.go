package block

import (
	"hash/crc32"
)

// FormatVersion is the version of the on-disk format written by this
// package. It is stored in meta.json and as the byte after each file's magic
// so that a reader can refuse a block it does not understand instead of
// misreading it.
const FormatVersion = 1

// File names inside a block directory.
const (
	// MetaFile describes the block; it is written last, so a block directory
	// without it was never finished.
	MetaFile = "meta.json"
	// IndexFile holds the row-group table.
	IndexFile = "index"
	// DictFile holds the block-wide dictionaries and the catalog.
	DictFile = "dict"
	// DataFile holds the compressed column sections of every row group.
	DataFile = "data"
	// TmpSuffix marks a block directory that is still being written (or was
	// abandoned by a crash). Readers never open such a directory; the owner
	// of the parent directory deletes it at startup.
	TmpSuffix = ".tmp-for-creation"
)

// File magics: four bytes at the start of each binary file, followed by the
// format version byte.
const (
	magicIndex = "CLWI"
	magicDict  = "CLWD"
	magicData  = "CLWB"
	headerLen  = 5 // magic + version byte
	crcLen     = 4 // CRC-32C trailer of index and dict
)

// DefaultRowGroupSpans is the row-group size used when
// WriteOptions.RowGroupSpans is 0. Larger row groups compress better; smaller
// ones make a trace lookup decompress less.
const DefaultRowGroupSpans = 4096

// maxRowGroupSpans bounds RowGroupSpans so that one row group's buffers stay
// reasonable and every in-row-group index fits in 32 bits.
const maxRowGroupSpans = 1 << 20

// maxValueDepth bounds the nesting of array and map attribute values, both
// when writing (deeper values are rejected) and when reading (deeper data is
// corrupt), so that decoding untrusted data cannot exhaust the stack.
const maxValueDepth = 128

// maxSectionRaw bounds the decompressed size of one column section that a
// reader accepts, as a guard against a crafted index.
const maxSectionRaw = 1 << 30

// Section codecs, one byte in the index per column section.
const (
	codecRaw  = 0 // stored uncompressed (compression did not pay)
	codecZstd = 1 // one zstd frame
)

// Column ids: the order of a row group's sections in the data file and in
// the index. A new column means a new FormatVersion.
const (
	colTrace    = iota // per trace: ID, span count, first start
	colSpanID          // 8 raw bytes per span
	colParent          // parent reference per span
	colStart           // start delta from the previous span of the trace
	colDuration        // end - start
	colName            // span name symbol
	colKind            // span kind byte
	colStatus          // status code and message
	colResource        // resource dictionary id
	colScope           // scope dictionary id
	colAttrs           // span attributes
	colEvents          // events with their attributes
	colLinks           // links with their attributes
	colMisc            // flags, trace state, dropped counts
	numColumns
)

// columnNames name the columns in [ColumnSize] and the format document.
var columnNames = [numColumns]string{
	"trace", "spanID", "parent", "start", "duration", "name", "kind",
	"status", "resource", "scope", "attrs", "events", "links", "misc",
}

// castagnoli is the CRC-32C table; it is immutable and shared like the
// tables of hash/crc32 itself.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// zstdSlack is the spare capacity given to zstd's output buffer so that it
// can use its fast (over-writing) copy loops.
const zstdSlack = 64
