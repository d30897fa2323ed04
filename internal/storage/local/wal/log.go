package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// Log is a write-ahead log: a directory of numbered segment files holding
// CRC-framed records. It is safe for concurrent use, with one exception:
// [Log.Replay] must run before the first [Log.Append] or [Log.Cut].
type Log struct {
	dir     string
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	hooks   hooks

	// mu guards the pending batch and the lifecycle fields below it. It is
	// held only to copy a record into the batch or to swap batches, never
	// across I/O.
	mu        sync.Mutex
	cur       *batch // records waiting for the writer
	spareBuf  []byte // a drained batch buffer, reused by the next batch
	spareEnds []int
	closed    bool
	failed    error // first write or fsync error; sticky
	appended  bool  // Append or Cut was called; Replay is no longer allowed
	replaying bool
	resume    resumePoint // set by a complete Replay

	// kick wakes the writer goroutine; it has capacity one, so a kick is
	// never lost and never blocks.
	kick chan struct{}
	// stop is closed by Close to end the background syncer.
	stop chan struct{}
	wg   sync.WaitGroup

	// fileMu guards seg against the background syncer. Only the writer
	// goroutine replaces seg (under fileMu) or writes to it, so the writer
	// reads seg without the lock.
	fileMu sync.Mutex
	seg    *segment
	// dirty says the active segment has writes that are not yet fsynced.
	dirty atomic.Bool

	// maintMu serialises Replay and Truncate, which both touch segment
	// files the writer does not own.
	maintMu sync.Mutex

	// segMu guards segs, the indexes of the segment files on disk.
	segMu sync.Mutex
	segs  []int
	// size is the number of bytes in all segment files.
	size atomic.Int64

	// closeErr is set by the writer goroutine before it exits.
	closeErr error
}

// resumePoint is the last segment as Replay left it: validated, truncated
// after its last good record and fsynced. The writer appends to it rather
// than starting a new segment.
type resumePoint struct {
	ok    bool
	index int
	size  int64
}

// hooks let tests in this package interleave with the writer goroutine.
// They are nil in production.
type hooks struct {
	// beforeCommit is called by the writer before it writes a batch.
	beforeCommit func()
}

// Open opens the log in dir, creating the directory if needed. It does not
// read existing segments: call [Log.Replay] for that. If dir holds no
// segment, Open creates segment 1; otherwise the first write goes to the
// last segment if Replay validated it, or to a new segment if it did not.
func Open(dir string, opts Options) (*Log, error) {
	return open(dir, opts, hooks{})
}

// open is Open with test hooks.
func open(dir string, opts Options, h hooks) (_ *Log, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("wal: create dir: %w", err)
	}
	files, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			m.unregister()
		}
	}()
	l := &Log{
		dir:     dir,
		opts:    opts,
		logger:  opts.Logger.With("component", "wal", "dir", dir),
		metrics: m,
		hooks:   h,
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	l.cur = l.newBatchLocked()
	for i, f := range files {
		if i > 0 && f.index != files[i-1].index+1 {
			// NB: a gap means segments were deleted by hand. Replaying
			// what is left loses less than refusing to start.
			l.logger.Warn("wal: gap in segment sequence", "after", files[i-1].index, "next", f.index)
		}
		l.segs = append(l.segs, f.index)
		l.size.Add(f.size)
	}
	if len(files) == 0 {
		f, err := createSegment(dir, 1)
		if err != nil {
			return nil, err
		}
		l.seg = &segment{f: f, index: 1, size: segmentHeaderSize}
		l.segs = []int{1}
		l.size.Store(segmentHeaderSize)
		m.bytesWritten.Add(segmentHeaderSize)
	}
	m.segments.Set(float64(len(l.segs)))

	l.wg.Add(1)
	go l.runWriter()
	if opts.Fsync == FsyncInterval {
		l.wg.Add(1)
		go l.runSyncer()
	}
	return l, nil
}

// Close writes and fsyncs every record accepted so far, closes the active
// segment and unregisters the metrics. Later calls on the Log return
// [ErrClosed]; Close itself is idempotent and returns nil after the first
// call.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.wake()
	close(l.stop)
	l.wg.Wait()
	l.metrics.unregister()
	return l.closeErr
}

// Segments returns the indexes of the oldest and newest segment on disk.
// Every index in between exists unless files were removed by hand.
func (l *Log) Segments() (first, last int, err error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return 0, 0, ErrClosed
	}
	l.segMu.Lock()
	defer l.segMu.Unlock()
	if len(l.segs) == 0 {
		panic("BUG: wal: no segments")
	}
	return l.segs[0], l.segs[len(l.segs)-1], nil
}

// Size returns the number of bytes in all segment files, including records
// that are written but not yet fsynced.
func (l *Log) Size() int64 { return l.size.Load() }

// Truncate deletes every segment with an index below before. Call it once
// the records in those segments are safe elsewhere (in a block), with an
// index returned by [Log.Cut]. Segments are deleted oldest first, so a
// crash midway leaves a contiguous suffix. It is an error for before to be
// greater than the last segment's index, since the active segment must
// never be deleted.
func (l *Log) Truncate(before int) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()

	segs := l.segmentList()
	if last := segs[len(segs)-1]; before > last {
		return fmt.Errorf("wal: truncate before %d: last segment is %d", before, last)
	}
	removed := 0
	var err error
	for _, idx := range segs {
		if idx >= before {
			break
		}
		if err = l.removeSegment(idx); err != nil {
			break
		}
		removed++
	}
	if removed > 0 {
		err = errors.Join(err, syncDir(l.dir))
	}
	return err
}

// removeSegment deletes one segment file and forgets it.
func (l *Log) removeSegment(idx int) error {
	path := filepath.Join(l.dir, segmentName(idx))
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("wal: remove segment %d: %w", idx, err)
	}
	l.size.Add(-size)
	l.segMu.Lock()
	l.segs = slices.DeleteFunc(l.segs, func(i int) bool { return i == idx })
	l.metrics.segments.Set(float64(len(l.segs)))
	l.segMu.Unlock()
	return nil
}

// addSegment records a newly created segment file.
func (l *Log) addSegment(idx int, size int64) {
	l.size.Add(size)
	l.segMu.Lock()
	l.segs = append(l.segs, idx)
	l.metrics.segments.Set(float64(len(l.segs)))
	l.segMu.Unlock()
}

// lastSegment returns the index of the newest segment file.
func (l *Log) lastSegment() int {
	l.segMu.Lock()
	defer l.segMu.Unlock()
	return l.segs[len(l.segs)-1]
}

// segmentList returns a copy of the segment indexes.
func (l *Log) segmentList() []int {
	l.segMu.Lock()
	defer l.segMu.Unlock()
	return slices.Clone(l.segs)
}
