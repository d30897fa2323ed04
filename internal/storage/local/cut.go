package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// Bounds of how often the cut loop looks at the head's age.
const (
	minCutCheckInterval = 10 * time.Millisecond
	maxCutCheckInterval = time.Second
)

// cutCheckTraces is how many traces a cut writes between checks of its
// context.
const cutCheckTraces = 1024

// requestCut asks the cut loop to cut the head soon, without blocking.
func (db *DB) requestCut() {
	db.cutPending.Store(true)
	select {
	case db.cutCh <- struct{}{}:
	default:
	}
}

// runCutLoop cuts the head whenever it is full or old, and retries a cut
// that failed, until ctx is done.
func (db *DB) runCutLoop(ctx context.Context) {
	defer db.bg.Done()
	t := time.NewTicker(min(max(db.opts.HeadMaxAge/8, minCutCheckInterval), maxCutCheckInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-db.cutCh:
		}
		// Errors are logged and kept for Health by cutLocked.
		_ = db.cutIfDue(ctx)
	}
}

// cutIfDue cuts the head when it has reached a limit, or finishes a cut
// that failed before.
func (db *DB) cutIfDue(ctx context.Context) error {
	db.cutMu.Lock()
	defer db.cutMu.Unlock()
	db.mu.RLock()
	h, pending := db.head, db.flushing != nil
	db.mu.RUnlock()
	n := h.NumSpans()
	due := n >= db.opts.HeadMaxSpans || h.Bytes() >= db.opts.HeadMaxBytes ||
		(n > 0 && db.opts.Now().Sub(h.FirstAppend()) >= db.opts.HeadMaxAge)
	if !due && !pending {
		db.cutPending.Store(false)
		return nil
	}
	if !due {
		return db.persistFlushing(ctx)
	}
	return db.cutLocked(ctx)
}

// Flush writes everything in the head into a block now. It returns once
// the block is on disk and served. Tests and shutdown use it; correctness
// never depends on it.
func (db *DB) Flush(ctx context.Context) error {
	db.lifeMu.RLock()
	defer db.lifeMu.RUnlock()
	if db.closed {
		return storage.ErrClosed
	}
	db.cutMu.Lock()
	defer db.cutMu.Unlock()
	return db.cutLocked(ctx)
}

// cutLocked finishes any earlier cut, rotates the head and writes the
// rotated head into a block. db.cutMu must be held.
func (db *DB) cutLocked(ctx context.Context) error {
	if err := db.persistFlushing(ctx); err != nil {
		return err
	}
	rotated, err := db.rotate()
	if err != nil {
		db.noteCutError(err)
		return err
	}
	if rotated {
		if err := db.persistFlushing(ctx); err != nil {
			return err
		}
	}
	db.cutPending.Store(false)
	return nil
}

// rotate swaps in an empty head and cuts the WAL, so that the old head's
// records all lie in segments before the returned cut. It reports false
// when the head was empty. Writes wait while it runs (one WAL commit).
func (db *DB) rotate() (bool, error) {
	db.appendMu.Lock()
	defer db.appendMu.Unlock()
	old := db.head
	if old.NumSpans() == 0 {
		return false, nil
	}
	seg, err := db.wal.Cut()
	if err != nil {
		return false, fmt.Errorf("local: cut wal: %w", err)
	}
	old.walSegment = seg
	db.mu.Lock()
	db.head = NewHead()
	db.flushing = old
	db.mu.Unlock()
	return true, nil
}

// persistFlushing writes the rotated head into a level-0 block, puts the
// block in the list in place of the head and then truncates the WAL up to
// the head's cut. The order makes a crash at any point safe: until the
// block is durable the WAL holds every span; once it is, a replayed
// duplicate is removed when results are merged.
func (db *DB) persistFlushing(ctx context.Context) error {
	db.mu.RLock()
	h := db.flushing
	db.mu.RUnlock()
	if h == nil {
		return nil
	}
	start := time.Now()
	meta, err := db.writeHeadBlock(ctx, h)
	if err != nil {
		if ctx.Err() == nil {
			db.noteCutError(err)
		}
		return err
	}
	dir := filepath.Join(db.blocksDir, meta.ID)
	b, err := block.Open(dir)
	if err != nil {
		// NB: the block we just wrote does not read back. Keep the head
		// (the WAL still has it) and set the block aside for inspection.
		err = fmt.Errorf("local: open new block %s: %w", meta.ID, err)
		db.noteCutError(err)
		if qerr := db.moveToQuarantine(dir); qerr != nil {
			db.logger.Error("quarantine unreadable new block", "block", meta.ID, "err", qerr)
		}
		return err
	}
	bh := db.newBlockHandle(b, b.Meta(), dir)
	db.mu.Lock()
	db.addBlockLocked(bh)
	db.flushing = nil
	db.mu.Unlock()

	if err := db.wal.Truncate(h.walSegment); err != nil {
		// NB: not fatal: the WAL is only longer than needed, and what it
		// replays twice is deduplicated.
		db.logger.Warn("truncate wal after cut", "before_segment", h.walSegment, "err", err)
	}
	elapsed := time.Since(start)
	db.metrics.cuts.Inc()
	db.metrics.cutDuration.Observe(elapsed.Seconds())
	db.setHealthErr(&db.health.cutErr, nil)
	db.logger.Info("head cut into block", "block", meta.ID, "spans", meta.SpanCount,
		"traces", meta.TraceCount, "bytes", meta.Bytes, "duration", elapsed)
	return nil
}

// writeHeadBlock streams a head into a new level-0 block, trace by trace
// in trace-ID order.
func (db *DB) writeHeadBlock(ctx context.Context, h *Head) (_ block.Meta, err error) {
	edges := edgeStats{}
	w, err := block.NewWriter(db.blocksDir, block.WriteOptions{Level: 0,
		ExtraFiles: blockStatsFiles(h.statsCopy, func() edgeStats { return edges })})
	if err != nil {
		return block.Meta{}, fmt.Errorf("local: new block: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Abort())
		}
	}()
	for i, id := range h.sortedTraceIDs() {
		if i%cutCheckTraces == 0 {
			if err := ctx.Err(); err != nil {
				return block.Meta{}, err
			}
		}
		spans, _ := h.Trace(ctx, id)
		slices.SortFunc(spans, compareSpans)
		edges.addTrace(spans, storage.TimeRange{})
		for _, s := range spans {
			if err := w.Append(s); err != nil {
				return block.Meta{}, fmt.Errorf("local: write block: %w", err)
			}
		}
	}
	meta, err := w.Finish()
	if err != nil {
		return block.Meta{}, fmt.Errorf("local: finish block: %w", err)
	}
	return meta, nil
}

// compareSpans orders spans by start, then span ID, kind and service: the
// order of a trace's spans in results.
func compareSpans(a, b *model.Span) int {
	if a.StartUnixNano != b.StartUnixNano {
		if a.StartUnixNano < b.StartUnixNano {
			return -1
		}
		return 1
	}
	return compareIdentities(a, b)
}

// noteCutError counts, logs and remembers a failed cut. The rotated head
// stays readable and is retried by the cut loop.
func (db *DB) noteCutError(err error) {
	db.metrics.cutsFailed.Inc()
	db.logger.Error("cutting the head into a block failed; will retry", "err", err)
	db.setHealthErr(&db.health.cutErr, err)
}
