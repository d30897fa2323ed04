package wal

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test them with [errors.Is]; some are wrapped with detail.
var (
	// ErrClosed is returned by every call on a [Log] after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrRecordTooLarge is returned by Append for a payload larger than
	// [MaxRecordSize].
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrEmptyRecord is returned by Append for an empty payload. An empty
	// record would be encoded as eight zero bytes, which is exactly what a
	// file system leaves in a torn, zero-filled tail; forbidding it lets
	// replay recognise such tails as corruption.
	ErrEmptyRecord = errors.New("wal: empty record")
	// ErrReplayAfterAppend is returned by Replay once Append or Cut has
	// been called: replay would race with the writer over the last segment.
	ErrReplayAfterAppend = errors.New("wal: Replay called after Append")
	// ErrReplayInProgress is returned by Append, Cut and Replay while a
	// Replay is running.
	ErrReplayInProgress = errors.New("wal: Replay in progress")
)

// Causes of corruption, carried in [CorruptionError.Err].
var (
	errTornRecord    = errors.New("torn record")
	errBadLength     = errors.New("invalid record length")
	errChecksum      = errors.New("checksum mismatch")
	errBadMagic      = errors.New("not a wal segment (bad magic)")
	errBadVersion    = errors.New("unsupported segment format version")
	errTornHeader    = errors.New("torn segment header")
	errSegmentsLimit = errors.New("segment index limit reached")
)

// CorruptionError reports damage in a segment that Replay could not repair,
// for example a segment written by a newer format version, or a torn record
// whose segment could not be truncated. Repair code can act on Segment and
// Offset; Err says what was wrong.
type CorruptionError struct {
	// Segment is the index of the damaged segment.
	Segment int
	// Offset is the byte offset in the segment where the damage starts.
	Offset int64
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corruption in segment %0*d at offset %d: %v", segmentNameDigits, e.Segment, e.Offset, e.Err)
}

// Unwrap returns the cause so that [errors.Is] sees it.
func (e *CorruptionError) Unwrap() error { return e.Err }
