package local

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// Compaction windows. Blocks are grouped into windows by their MaxTime:
// first baseCompactionRange long, then each level rangeMultiplier times
// longer, up to Options.CompactionMaxBlockDuration. A window is merged once
// it is complete, so each span is rewritten about once per level rather
// than once per head cut.
const (
	baseCompactionRange = 15 * time.Minute
	rangeMultiplier     = 4
)

// compactCheckTraces is how many traces a compaction writes between checks
// of its context.
const compactCheckTraces = 1024

// Compactor plans and writes compactions: it merges blocks whose spans
// belong together into one larger block, so that a trace cut into several
// level-0 blocks ends up in one, and a query opens fewer blocks. Like
// Prometheus TSDB's compactor it only reads and writes blocks; the DB swaps
// the result in. It is safe for concurrent use (it has no mutable state).
type Compactor struct {
	parent   string
	ranges   []time.Duration
	maxSpans int
	// grace is how long after a window ends it is considered complete:
	// spans that ended in the window may still sit in the head until then.
	grace time.Duration
}

// NewCompactor returns a compactor that writes into the blocks directory
// parent, with windows and size bounds from opts (defaults applied).
func NewCompactor(parent string, opts Options) *Compactor {
	opts.EnsureDefaults()
	return &Compactor{
		parent:   parent,
		ranges:   compactionRanges(opts.CompactionMaxBlockDuration),
		maxSpans: opts.CompactionMaxBlockSpans,
		grace:    2 * opts.HeadMaxAge,
	}
}

// compactionRanges returns the window lengths, shortest first.
func compactionRanges(maxDuration time.Duration) []time.Duration {
	if maxDuration <= baseCompactionRange {
		return []time.Duration{maxDuration}
	}
	var rs []time.Duration
	for r := baseCompactionRange; r <= maxDuration; r *= rangeMultiplier {
		rs = append(rs, r)
	}
	return rs
}

// Plan returns groups of blocks to merge, most urgent first, each sorted by
// MinTime. For each window length, shortest first, it buckets the blocks by
// the window their MaxTime falls in; in every complete window with more
// than one block it groups consecutive blocks (by MinTime) while their
// spans stay within the size bound. A block that alone reaches the bound is
// never merged again.
func (c *Compactor) Plan(metas []block.Meta, now time.Time) [][]block.Meta {
	sorted := slices.Clone(metas)
	slices.SortFunc(sorted, func(a, b block.Meta) int {
		return cmp.Or(cmp.Compare(a.MinTime, b.MinTime), strings.Compare(a.ID, b.ID))
	})
	nowNs := now.UnixNano()
	for _, r := range c.ranges {
		rn := uint64(r)
		buckets := make(map[uint64][]block.Meta)
		var keys []uint64
		for _, m := range sorted {
			k := m.MaxTime / rn
			if _, ok := buckets[k]; !ok {
				keys = append(keys, k)
			}
			buckets[k] = append(buckets[k], m)
		}
		slices.Sort(keys)
		var plans [][]block.Meta
		for _, k := range keys {
			end := (k + 1) * rn
			if int64(end)+int64(c.grace) > nowNs || end < k*rn {
				continue // incomplete window (or overflow)
			}
			plans = append(plans, c.groupBySize(buckets[k])...)
		}
		if len(plans) > 0 {
			return plans
		}
	}
	return nil
}

// groupBySize splits a window's blocks into consecutive runs of at most
// maxSpans spans and returns the runs of two or more blocks.
func (c *Compactor) groupBySize(ms []block.Meta) [][]block.Meta {
	var out [][]block.Meta
	var run []block.Meta
	spans := 0
	flush := func() {
		if len(run) > 1 {
			out = append(out, run)
		}
		run, spans = nil, 0
	}
	for _, m := range ms {
		if len(run) > 0 && spans+m.SpanCount > c.maxSpans {
			flush()
		}
		run = append(run, m)
		spans += m.SpanCount
	}
	flush()
	return out
}

// sourceError is a failure to read one source of a compaction; index is
// the source's position in the slice given to Write.
type sourceError struct {
	index int
	err   error
}

// Error implements error.
func (e *sourceError) Error() string { return fmt.Sprintf("read source %d: %v", e.index, e.err) }

// Unwrap returns the cause.
func (e *sourceError) Unwrap() error { return e.err }

// Write merges the sources into one new block in the blocks directory and
// returns its meta, whose Sources name the sources and whose Level is one
// more than theirs. It streams each source's spans (in trace-ID order)
// through a k-way merge, so memory stays bounded by one trace plus the
// block writer's row group. A span present more than once (a span
// replayed from the WAL after its block was written, or a retried export;
// identified by trace ID, span ID, kind and service) is written once. A failure to read a source is returned
// as a *sourceError.
func (c *Compactor) Write(ctx context.Context, sources []*block.Block) (_ block.Meta, err error) {
	if len(sources) == 0 {
		return block.Meta{}, errors.New("local: compact: no sources")
	}
	level := 0
	ids := make([]string, len(sources))
	for i, b := range sources {
		m := b.Meta()
		ids[i] = m.ID
		level = max(level, m.Level+1)
	}
	// NB: the output's statistics are recomputed from the spans written
	// rather than summed from the sources', so that a span stored in two
	// sources counts once, as it is written once.
	stats, edges := opStats{}, edgeStats{}
	w, err := block.NewWriter(c.parent, block.WriteOptions{Level: level, Sources: ids,
		ExtraFiles: blockStatsFiles(func() opStats { return stats }, func() edgeStats { return edges })})
	if err != nil {
		return block.Meta{}, fmt.Errorf("local: compact: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Abort())
		}
	}()
	curs := make([]*cursor, len(sources))
	for i, b := range sources {
		curs[i] = newCursor(i, b.Spans(ctx))
		defer curs[i].stop()
		if err := curs[i].advance(); err != nil {
			return block.Meta{}, err
		}
	}
	var trace []*model.Span
	for n := 0; ; n++ {
		if n%compactCheckTraces == 0 {
			if err := ctx.Err(); err != nil {
				return block.Meta{}, err
			}
		}
		var id *model.TraceID
		for _, c := range curs {
			if c.span != nil && (id == nil || bytes.Compare(c.span.TraceID[:], id[:]) < 0) {
				id = &c.span.TraceID
			}
		}
		if id == nil {
			break
		}
		want := *id
		trace = trace[:0]
		for _, c := range curs {
			for c.span != nil && c.span.TraceID == want {
				trace = append(trace, c.span)
				if err := c.advance(); err != nil {
					return block.Meta{}, err
				}
			}
		}
		merged := dedupeSpans(trace)
		for _, s := range merged {
			if err := w.Append(s); err != nil {
				return block.Meta{}, fmt.Errorf("local: compact: %w", err)
			}
			stats.add(s, s.Service())
		}
		edges.addTrace(merged, storage.TimeRange{})
		clear(trace)
	}
	meta, err := w.Finish()
	if err != nil {
		return block.Meta{}, fmt.Errorf("local: compact: %w", err)
	}
	return meta, nil
}

// dedupeSpans sorts one trace's spans by start and span ID and drops later
// copies of a span (same span ID, kind and service; see [spanIdentity]),
// in place.
func dedupeSpans(spans []*model.Span) []*model.Span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortStableFunc(spans, compareIdentities)
	spans = slices.CompactFunc(spans, sameSpan)
	slices.SortFunc(spans, compareSpans)
	return spans
}

// compareIdentities orders spans by span ID, kind and service, so that the
// copies of one span are adjacent.
func compareIdentities(a, b *model.Span) int {
	return cmp.Or(bytes.Compare(a.SpanID[:], b.SpanID[:]), cmp.Compare(a.Kind, b.Kind), strings.Compare(a.Service(), b.Service()))
}

// cursor walks one source's spans during a merge.
type cursor struct {
	index int
	next  func() (*model.Span, error, bool)
	stop  func()
	span  *model.Span // current span; nil once exhausted
}

// newCursor starts pulling from seq.
func newCursor(index int, seq iter.Seq2[*model.Span, error]) *cursor {
	next, stop := iter.Pull2(seq)
	return &cursor{index: index, next: next, stop: stop}
}

// advance moves to the next span, checking that the source is in trace-ID
// order: an out-of-order source would silently split traces.
func (c *cursor) advance() error {
	prev := c.span
	s, err, ok := c.next()
	if !ok {
		c.span = nil
		return nil
	}
	if err != nil {
		c.span = nil
		return &sourceError{index: c.index, err: err}
	}
	if prev != nil && bytes.Compare(s.TraceID[:], prev.TraceID[:]) < 0 {
		c.span = nil
		return &sourceError{index: c.index, err: fmt.Errorf("spans out of trace-id order: %s after %s", s.TraceID, prev.TraceID)}
	}
	c.span = s
	return nil
}

// runMaintenanceLoop compacts blocks and applies retention every
// CompactionInterval until ctx is done.
func (db *DB) runMaintenanceLoop(ctx context.Context) {
	defer db.bg.Done()
	db.applyRetention()
	t := time.NewTicker(db.opts.CompactionInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Errors are logged and kept for Health.
		_ = db.compact(ctx)
		db.applyRetention()
	}
}

// compact runs compactions until the plan is empty, an error occurs or
// ctx is done.
func (db *DB) compact(ctx context.Context) error {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	for ctx.Err() == nil {
		did, err := db.compactOnce(ctx)
		if err != nil || !did {
			return err
		}
	}
	return ctx.Err()
}

// compactOnce carries out the first planned compaction and reports whether
// there was one. It never blocks ingest, and queries keep using the sources
// until the swap; the sources are deleted when the last query using them
// is done. db.compactMu must be held.
func (db *DB) compactOnce(ctx context.Context) (bool, error) {
	db.mu.RLock()
	metas := make([]block.Meta, len(db.blocks))
	for i, h := range db.blocks {
		metas[i] = h.meta
	}
	db.mu.RUnlock()
	plans := db.compactor.Plan(metas, db.opts.Now())
	if len(plans) == 0 {
		db.setHealthErr(&db.health.compactErr, nil)
		return false, nil
	}
	group := plans[0]

	db.mu.RLock()
	srcs := make([]*blockHandle, 0, len(group))
	for _, m := range group {
		i := slices.IndexFunc(db.blocks, func(h *blockHandle) bool { return h.meta.ID == m.ID })
		if i < 0 {
			break
		}
		db.blocks[i].acquire()
		srcs = append(srcs, db.blocks[i])
	}
	db.mu.RUnlock()
	defer func() {
		for _, h := range srcs {
			h.release()
		}
	}()
	if len(srcs) != len(group) {
		return true, nil // the list changed under the plan: plan again
	}

	start := time.Now()
	blocks := make([]*block.Block, len(srcs))
	for i, h := range srcs {
		blocks[i] = h.b
	}
	meta, err := db.compactor.Write(ctx, blocks)
	if err != nil {
		if se, ok := errors.AsType[*sourceError](err); ok {
			if _, corrupt := errors.AsType[*block.CorruptionError](err); corrupt {
				db.quarantine(srcs[se.index], err)
			}
		}
		if ctx.Err() == nil {
			db.noteCompactError(err)
		}
		return false, err
	}
	dir := filepath.Join(db.blocksDir, meta.ID)
	b, err := block.Open(dir)
	if err != nil {
		err = fmt.Errorf("local: open compacted block %s: %w", meta.ID, err)
		if qerr := db.moveToQuarantine(dir); qerr != nil {
			db.logger.Error("quarantine unreadable compacted block", "block", meta.ID, "err", qerr)
		}
		db.noteCompactError(err)
		return false, err
	}
	nh := db.newBlockHandle(b, b.Meta(), dir)

	db.mu.Lock()
	for _, h := range srcs {
		if !slices.Contains(db.blocks, h) {
			// NB: a source was quarantined by a query meanwhile; its
			// data cannot be trusted, so neither can the merge.
			db.mu.Unlock()
			nh.fate.Store(fateDelete)
			nh.release()
			err := fmt.Errorf("local: compaction source %s was quarantined during the merge", h.meta.ID)
			db.noteCompactError(err)
			return false, err
		}
	}
	db.removeBlocksLocked(srcs)
	db.addBlockLocked(nh)
	db.mu.Unlock()
	for _, h := range srcs {
		h.fate.Store(fateDelete)
		h.release() // the list's reference; ours goes in the deferred release
	}

	elapsed := time.Since(start)
	db.metrics.compactions.Inc()
	db.metrics.compactionDuration.Observe(elapsed.Seconds())
	db.setHealthErr(&db.health.compactErr, nil)
	db.logger.Info("compacted blocks", "block", meta.ID, "level", meta.Level, "sources", meta.Sources,
		"spans", meta.SpanCount, "traces", meta.TraceCount, "bytes", meta.Bytes, "duration", elapsed)
	return true, nil
}

// noteCompactError counts, logs and remembers a failed compaction. The
// sources stay in place, so nothing is lost.
func (db *DB) noteCompactError(err error) {
	db.metrics.compactionsFailed.Inc()
	db.logger.Error("compaction failed; sources kept", "err", err)
	db.setHealthErr(&db.health.compactErr, err)
}
