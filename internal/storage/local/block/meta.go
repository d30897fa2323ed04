package block

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Meta describes a block. It is stored as meta.json in the block directory
// and is the last file written, so its presence means the block is complete.
type Meta struct {
	// Version is the FormatVersion the block was written with.
	Version int `json:"version"`
	// ID is time-sortable (12 hex digits of the creation time in Unix
	// milliseconds, then 8 random hex digits) and is the directory name.
	ID string `json:"id"`
	// MinTime is the smallest span start (Unix ns).
	MinTime uint64 `json:"minTime"`
	// MaxTime is the largest span end (Unix ns); a span that ends before it
	// starts counts with its start, so MinTime <= MaxTime always.
	MaxTime    uint64 `json:"maxTime"`
	SpanCount  int    `json:"spanCount"`
	TraceCount int    `json:"traceCount"`
	// Level is 0 for a block cut from the head; a compaction's output has
	// the maximum level of its sources plus one.
	Level int `json:"level"`
	// Sources lists the IDs of the blocks compacted into this one.
	Sources []string `json:"sources,omitempty"`
	// Bytes is the total size of the block's files, meta.json excluded.
	Bytes int64 `json:"bytes"`
	// RowGroups is the number of row groups in the data file.
	RowGroups int `json:"rowGroups"`
	// Files gives each file's size and CRC-32C so that a reader can check
	// them without trusting the files themselves.
	Files []FileMeta `json:"files"`
	// Checksum is the CRC-32C of this struct marshalled with Checksum set
	// to 0, so that a flipped byte in meta.json is detected.
	Checksum uint32 `json:"checksum"`
}

// FileMeta is the size and checksum of one file of a block.
type FileMeta struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
}

// file returns the entry for name, or false.
func (m *Meta) file(name string) (FileMeta, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileMeta{}, false
}

// CorruptionError reports a block file whose bytes do not match their
// checksum or cannot be decoded. The DB quarantines such a block instead of
// serving wrong answers from it.
type CorruptionError struct {
	Dir  string
	File string
	Err  error
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("block %s: corrupt %s: %v", e.Dir, e.File, e.Err)
}

// Unwrap returns the underlying cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Errors returned by the writer.
var (
	// ErrEmpty is returned by Writer.Finish (and Write) when no span was
	// appended: an empty block is never created.
	ErrEmpty = errors.New("block: no spans")
	// ErrOutOfOrder is returned by Writer.Append for a span whose trace ID
	// sorts before the previous span's.
	ErrOutOfOrder = errors.New("block: span out of trace-id order")
	// ErrWriterClosed is returned by a Writer after Finish or Abort.
	ErrWriterClosed = errors.New("block: writer closed")
	// ErrUnsupportedVersion is returned by Open and ReadMeta for an intact
	// block written in a format version this code does not read. It is not a
	// CorruptionError: the block is fine, the reader is too old.
	ErrUnsupportedVersion = errors.New("block: unsupported format version")
)

// errMalformed is the cause inside a CorruptionError when bytes that passed
// their checksum (or have none yet) do not decode.
var errMalformed = errors.New("malformed data")

// errChecksum is the cause inside a CorruptionError for a CRC mismatch.
var errChecksum = errors.New("checksum mismatch")

// newID returns a time-sortable unique block ID.
func newID(now time.Time) (string, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("block id: %w", err)
	}
	return fmt.Sprintf("%012x%s", uint64(now.UnixMilli())&(1<<48-1), hex.EncodeToString(r[:])), nil
}

// metaChecksum computes the checksum of m as stored.
func metaChecksum(m Meta) (uint32, error) {
	m.Checksum = 0
	b, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	return crc32c(b), nil
}

// marshalMeta renders meta.json with its checksum filled in.
func marshalMeta(m Meta) ([]byte, error) {
	sum, err := metaChecksum(m)
	if err != nil {
		return nil, err
	}
	m.Checksum = sum
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadMeta reads and verifies a block's meta.json without opening the
// block, for callers that plan compactions from metadata alone.
func ReadMeta(dir string) (Meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return Meta{}, &CorruptionError{Dir: dir, File: MetaFile, Err: err}
	}
	m, err := parseMeta(b)
	if errors.Is(err, ErrUnsupportedVersion) {
		return Meta{}, fmt.Errorf("block %s: %w", dir, err)
	}
	if err != nil {
		return Meta{}, &CorruptionError{Dir: dir, File: MetaFile, Err: err}
	}
	return m, nil
}

// parseMeta decodes and verifies meta.json contents.
func parseMeta(b []byte) (Meta, error) {
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Meta{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if dec.More() {
		return Meta{}, fmt.Errorf("%w: trailing data", errMalformed)
	}
	sum, err := metaChecksum(m)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if sum != m.Checksum {
		return Meta{}, errChecksum
	}
	if m.Version != FormatVersion {
		return Meta{}, fmt.Errorf("%w %d (this code reads %d)", ErrUnsupportedVersion, m.Version, FormatVersion)
	}
	if m.SpanCount <= 0 || m.TraceCount <= 0 || m.TraceCount > m.SpanCount || m.MinTime > m.MaxTime || m.RowGroups <= 0 {
		return Meta{}, fmt.Errorf("%w: inconsistent counts", errMalformed)
	}
	return m, nil
}
