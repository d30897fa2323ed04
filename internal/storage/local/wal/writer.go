package wal

import (
	"errors"
	"fmt"
	"time"
)

// runWriter is the single writer goroutine: it commits batches until Close,
// then drains what is left and closes the active segment.
func (l *Log) runWriter() {
	defer l.wg.Done()
	for {
		b := l.nextBatch()
		if b == nil {
			l.closeErr = l.closeSegment()
			return
		}
		if l.hooks.beforeCommit != nil {
			l.hooks.beforeCommit()
		}
		l.finish(b, l.commit(b))
	}
}

// nextBatch waits for a non-empty batch and swaps in a fresh one. It
// returns nil once the log is closed and every accepted record is committed.
func (l *Log) nextBatch() *batch {
	for {
		l.mu.Lock()
		if !l.cur.empty() {
			b := l.cur
			l.cur = l.newBatchLocked()
			l.mu.Unlock()
			return b
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil
		}
		<-l.kick
	}
}

// finish publishes the batch's outcome to its waiters and keeps its buffer
// for reuse.
func (l *Log) finish(b *batch, err error) {
	if err != nil {
		l.setFailed(err)
	}
	b.err = err
	buf, ends := b.buf, b.ends
	b.buf, b.ends = nil, nil
	close(b.done)

	if cap(buf) > maxRetainedBatchBuffer {
		return
	}
	l.mu.Lock()
	if l.spareBuf == nil {
		l.spareBuf, l.spareEnds = buf, ends
	}
	l.mu.Unlock()
}

// setFailed records the first I/O error; after it the log accepts nothing.
func (l *Log) setFailed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil {
		l.failed = err
		l.logger.Error("wal: write failed; the log accepts no more records until reopened", "err", err)
	}
}

// failure returns the sticky I/O error, if any.
func (l *Log) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// commit writes the batch's records, fsyncs them if the policy says so, and
// performs a requested cut.
func (l *Log) commit(b *batch) error {
	if err := l.failure(); err != nil {
		return err
	}
	if len(b.ends) > 0 {
		if err := l.ensureSegment(); err != nil {
			return err
		}
		if err := l.writeRecords(b); err != nil {
			return err
		}
		if l.opts.Fsync == FsyncAlways {
			if err := l.syncActive(); err != nil {
				return err
			}
		}
	}
	if b.cut {
		if err := l.rotate(); err != nil {
			return err
		}
		b.cutSegment = l.seg.index
	}
	return nil
}

// writeRecords writes the batch into the active segment with as few write
// calls as possible: one, unless the batch crosses a segment boundary.
func (l *Log) writeRecords(b *batch) error {
	off, i := 0, 0
	for off < len(b.buf) {
		end := off
		for i < len(b.ends) {
			next := b.ends[i]
			fits := l.seg.size+int64(next-off) <= l.opts.SegmentSize
			if !fits && (end > off || l.seg.size > segmentHeaderSize) {
				break
			}
			end = next
			i++
			if !fits {
				break // an oversized record gets a segment of its own
			}
		}
		if end == off {
			if err := l.rotate(); err != nil {
				return err
			}
			continue
		}
		n, err := l.seg.f.Write(b.buf[off:end])
		l.seg.size += int64(n)
		l.size.Add(int64(n))
		l.metrics.bytesWritten.Add(float64(n))
		if n > 0 {
			l.dirty.Store(true)
		}
		if err != nil {
			return fmt.Errorf("wal: write segment %d: %w", l.seg.index, err)
		}
		off = end
	}
	return nil
}

// ensureSegment makes sure there is an active segment: the last segment if
// Replay validated it, a new one otherwise.
func (l *Log) ensureSegment() error {
	if l.seg != nil {
		return nil
	}
	l.mu.Lock()
	r := l.resume
	l.mu.Unlock()
	if !r.ok || r.index != l.lastSegment() {
		return l.rotate()
	}
	f, size, err := openSegmentForAppend(l.dir, r.index)
	if err != nil {
		return err
	}
	l.fileMu.Lock()
	l.seg = &segment{f: f, index: r.index, size: size}
	l.fileMu.Unlock()
	return nil
}

// rotate fsyncs and closes the active segment, if any, and starts the next.
func (l *Log) rotate() error {
	if err := l.closeSegment(); err != nil {
		return err
	}
	next := l.lastSegment() + 1
	f, err := createSegment(l.dir, next)
	if err != nil {
		return err
	}
	l.addSegment(next, segmentHeaderSize)
	l.metrics.bytesWritten.Add(segmentHeaderSize)
	l.fileMu.Lock()
	l.seg = &segment{f: f, index: next, size: segmentHeaderSize}
	l.fileMu.Unlock()
	return nil
}

// closeSegment fsyncs the active segment if it has unsynced writes, closes
// it and leaves no segment active.
func (l *Log) closeSegment() error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	if l.seg == nil {
		return nil
	}
	err := l.syncLocked()
	if cerr := l.seg.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("wal: close segment %d: %w", l.seg.index, cerr))
	}
	l.seg = nil
	return err
}

// syncActive fsyncs the active segment if it has unsynced writes.
func (l *Log) syncActive() error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	return l.syncLocked()
}

// syncLocked fsyncs the active segment if it is dirty. l.fileMu must be held.
func (l *Log) syncLocked() error {
	if l.seg == nil || !l.dirty.Swap(false) {
		return nil
	}
	start := time.Now()
	err := l.seg.f.Sync()
	l.metrics.fsyncDuration.Observe(time.Since(start).Seconds())
	l.metrics.fsyncs.Inc()
	if err != nil {
		return fmt.Errorf("wal: sync segment %d: %w", l.seg.index, err)
	}
	return nil
}

// runSyncer fsyncs the active segment every FsyncInterval, for the
// [FsyncInterval] policy. The final fsync is done by the writer on Close.
func (l *Log) runSyncer() {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.FsyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.syncActive(); err != nil {
				l.setFailed(err)
			}
		}
	}
}
