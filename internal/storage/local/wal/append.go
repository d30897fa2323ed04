package wal

import (
	"context"
	"fmt"
)

// batch is a group of records committed together with one write and one
// fsync. Appenders fill it under Log.mu; the writer takes it whole.
type batch struct {
	buf  []byte // framed records, back to back
	ends []int  // end offset in buf of each record, to split at segment boundaries
	cut  bool   // start a new segment after writing the records

	done chan struct{} // closed when the batch is committed or failed
	// Set before done is closed; read by waiters after.
	err        error
	cutSegment int
}

// empty reports whether the writer has nothing to do for the batch.
func (b *batch) empty() bool { return len(b.ends) == 0 && !b.cut }

// newBatchLocked returns an empty batch, reusing a drained buffer if one is
// spare. l.mu must be held.
func (l *Log) newBatchLocked() *batch {
	b := &batch{buf: l.spareBuf[:0], ends: l.spareEnds[:0], done: make(chan struct{})}
	l.spareBuf, l.spareEnds = nil, nil
	return b
}

// Append adds rec to the log. With [FsyncAlways] it returns once rec is
// fsynced; with [FsyncInterval], once it is written. Append copies rec, so
// the caller may reuse it as soon as Append returns. It is safe for
// concurrent use: concurrent appenders are committed together.
//
// If ctx is done before rec is accepted, Append returns ctx.Err() and rec is
// not written. If ctx is done while Append waits for the commit, Append
// returns ctx.Err() at once, but rec may still be written: the caller must
// treat the outcome as unknown, as with a network request.
//
// Append returns [ErrClosed] after Close, [ErrEmptyRecord] or
// [ErrRecordTooLarge] for a bad size, and the first write error for good
// once a write or fsync has failed.
func (l *Log) Append(ctx context.Context, rec []byte) error {
	if len(rec) == 0 {
		return ErrEmptyRecord
	}
	if len(rec) > MaxRecordSize {
		return fmt.Errorf("%w: %d bytes, max %d", ErrRecordTooLarge, len(rec), MaxRecordSize)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	crc := checksum(rec) // outside the lock: it is the costly part

	l.mu.Lock()
	if err := l.acceptLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	b := l.cur
	// NB: the record is copied rather than referenced because an appender
	// whose ctx is cancelled returns before the write, and may then reuse
	// rec while the writer still reads it.
	b.buf = appendRecord(b.buf, rec, crc)
	b.ends = append(b.ends, len(b.buf))
	l.mu.Unlock()
	l.wake()

	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cut closes the current segment and starts a new one, returning the new
// segment's index. Cut is ordered with Append: every record whose Append
// returned before Cut was called lives in a segment with a smaller index,
// and every record appended after Cut returns lives in the returned
// segment or a later one. Records appended concurrently with Cut may land
// on either side. Cut fsyncs the closed segment whatever the policy, so
// that [Log.Truncate] with the returned index only removes durable data.
func (l *Log) Cut() (int, error) {
	l.mu.Lock()
	if err := l.acceptLocked(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	b := l.cur
	b.cut = true
	l.mu.Unlock()
	l.wake()

	<-b.done
	if b.err != nil {
		return 0, b.err
	}
	return b.cutSegment, nil
}

// acceptLocked returns why new work cannot be accepted, or nil after
// noting that the log has been written to. l.mu must be held.
func (l *Log) acceptLocked() error {
	switch {
	case l.closed:
		return ErrClosed
	case l.failed != nil:
		return l.failed
	case l.replaying:
		return ErrReplayInProgress
	}
	l.appended = true
	return nil
}

// wake tells the writer goroutine there is work, without blocking.
func (l *Log) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}
