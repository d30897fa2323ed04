package wal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Replay calls fn for every good record, in append order, oldest segment
// first. rec is only valid during the call: fn must copy what it keeps. If
// fn returns an error, Replay stops and returns it wrapped.
//
// Replay repairs what a crash or bit rot leaves behind. A torn or corrupt
// record (impossible length, short payload, CRC mismatch) ends its segment:
// the file is truncated after the last good record, a warning names the
// segment and offset, clew_wal_corruptions_total is incremented, and replay
// continues with the next segment, so good records in later segments are
// never lost. Replay returns a [*CorruptionError] only for damage it cannot
// repair, such as a segment that is not a version-1 WAL segment.
//
// Replay must be called before the first [Log.Append] or [Log.Cut], or not
// at all; afterwards it returns [ErrReplayAfterAppend]. After a complete
// Replay, new records go to the end of the last segment.
func (l *Log) Replay(ctx context.Context, fn func(rec []byte) error) error {
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.appended:
		l.mu.Unlock()
		return ErrReplayAfterAppend
	case l.replaying:
		l.mu.Unlock()
		return ErrReplayInProgress
	}
	l.replaying = true
	l.resume = resumePoint{}
	l.mu.Unlock()

	l.maintMu.Lock()
	r, err := l.replay(ctx, fn)
	l.maintMu.Unlock()

	l.mu.Lock()
	l.replaying = false
	if err == nil {
		l.resume = r
	}
	l.mu.Unlock()
	return err
}

// replay reads every segment and returns where appends may resume.
func (l *Log) replay(ctx context.Context, fn func(rec []byte) error) (resumePoint, error) {
	rr := &replayReader{br: bufio.NewReaderSize(nil, replayBufferSize)}
	segs := l.segmentList()
	var r resumePoint
	for _, idx := range segs {
		if err := ctx.Err(); err != nil {
			return resumePoint{}, err
		}
		size, err := l.replaySegment(ctx, rr, idx, fn)
		if err != nil {
			return resumePoint{}, err
		}
		r = resumePoint{ok: true, index: idx, size: size}
	}
	return r, nil
}

// replayReader holds the buffers Replay reuses across records and segments.
type replayReader struct {
	br      *bufio.Reader
	payload []byte
	header  [recordHeaderSize]byte
}

// replaySegment replays one segment, repairing it if needed, and returns its
// size after repair.
func (l *Log) replaySegment(ctx context.Context, rr *replayReader, idx int, fn func([]byte) error) (int64, error) {
	path := filepath.Join(l.dir, segmentName(idx))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("wal: open segment %d: %w", idx, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("wal: stat segment %d: %w", idx, err)
	}
	size := fi.Size()

	if err := l.checkHeader(f, idx, size); err != nil {
		return 0, err
	}
	if size < segmentHeaderSize {
		return segmentHeaderSize, nil // the header was repaired
	}

	if _, err := f.Seek(segmentHeaderSize, io.SeekStart); err != nil {
		return 0, fmt.Errorf("wal: seek segment %d: %w", idx, err)
	}
	rr.br.Reset(f)
	off := int64(segmentHeaderSize)
	for n := 0; ; n++ {
		if n%replayCtxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		rec, cause, err := rr.next(off, size)
		if err != nil {
			return 0, fmt.Errorf("wal: read segment %d at offset %d: %w", idx, off, err)
		}
		if cause != nil {
			if err := l.truncateSegment(f, idx, off, size, cause); err != nil {
				return 0, err
			}
			return off, nil
		}
		if rec == nil {
			return off, nil
		}
		if err := fn(rec); err != nil {
			return 0, fmt.Errorf("wal: replay segment %d at offset %d: %w", idx, off, err)
		}
		off += int64(recordHeaderSize + len(rec))
	}
}

// next reads the record at off in a segment of the given size. It returns
// the payload, or nil at a clean end of the segment, or a corruption cause
// for a record that is torn or damaged. err is a real read error, which
// must not be mistaken for corruption: the data may be fine.
func (rr *replayReader) next(off, size int64) (rec []byte, cause, err error) {
	remaining := size - off
	if remaining == 0 {
		return nil, nil, nil
	}
	if remaining < recordHeaderSize {
		return nil, errTornRecord, nil
	}
	if _, err := io.ReadFull(rr.br, rr.header[:]); err != nil {
		return nil, nil, err
	}
	length, crc := decodeRecordHeader(rr.header[:])
	if length == 0 || length > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d", errBadLength, length), nil
	}
	// NB: check the size before allocating, so that a corrupt length
	// cannot make Replay allocate 64 MiB for a short file.
	if remaining-recordHeaderSize < int64(length) {
		return nil, errTornRecord, nil
	}
	if cap(rr.payload) < int(length) {
		rr.payload = make([]byte, length)
	}
	rec = rr.payload[:length]
	if _, err := io.ReadFull(rr.br, rec); err != nil {
		return nil, nil, err
	}
	if got := checksum(rec); got != crc {
		return nil, fmt.Errorf("%w: stored %08x, computed %08x", errChecksum, crc, got), nil
	}
	return rec, nil, nil
}

// checkHeader validates a segment header, rewriting it if it is merely
// torn: a crash while creating the segment can leave a short or zero-filled
// header, and such a segment holds no records. Other damage is returned as
// a [*CorruptionError].
func (l *Log) checkHeader(f *os.File, idx int, size int64) error {
	want := segmentHeader()
	got := make([]byte, min(size, segmentHeaderSize))
	if _, err := f.ReadAt(got, 0); err != nil {
		return fmt.Errorf("wal: read header of segment %d: %w", idx, err)
	}
	if bytes.Equal(got, want[:]) {
		return nil
	}
	if size <= segmentHeaderSize && (bytes.HasPrefix(want[:], got) || isZero(got)) {
		l.metrics.corruptions.Inc()
		l.logger.Warn("wal: torn segment header, rewriting it", "segment", idx, "size", size)
		if err := rewriteHeader(f); err != nil {
			return &CorruptionError{Segment: idx, Offset: 0, Err: errors.Join(errTornHeader, err)}
		}
		l.size.Add(segmentHeaderSize - size)
		return nil
	}
	cause := errBadMagic
	if len(got) == segmentHeaderSize && bytes.Equal(got[:len(segmentMagic)], want[:len(segmentMagic)]) {
		cause = fmt.Errorf("%w %d", errBadVersion, got[len(segmentMagic)])
	} else if len(got) < segmentHeaderSize {
		cause = errTornHeader
	}
	return &CorruptionError{Segment: idx, Offset: 0, Err: cause}
}

// rewriteHeader replaces the whole file with a fresh segment header.
func rewriteHeader(f *os.File) error {
	h := segmentHeader()
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(h[:], 0); err != nil {
		return err
	}
	return f.Sync()
}

// truncateSegment cuts a segment after its last good record at off and
// reports the corruption found there.
func (l *Log) truncateSegment(f *os.File, idx int, off, size int64, cause error) error {
	l.metrics.corruptions.Inc()
	l.logger.Warn("wal: corrupt record, truncating segment",
		"segment", idx, "offset", off, "dropped_bytes", size-off, "err", cause)
	if err := f.Truncate(off); err != nil {
		return &CorruptionError{Segment: idx, Offset: off, Err: errors.Join(cause, fmt.Errorf("truncate: %w", err))}
	}
	if err := f.Sync(); err != nil {
		return &CorruptionError{Segment: idx, Offset: off, Err: errors.Join(cause, fmt.Errorf("sync: %w", err))}
	}
	l.size.Add(off - size)
	return nil
}

// isZero reports whether every byte of p is zero.
func isZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}
