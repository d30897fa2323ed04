package local

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// maxSummaryWorkers bounds the goroutines one FindTraces uses to fetch the
// traces it summarises.
const maxSummaryWorkers = 8

// reader is what a query asks of one part of the store. [*Head] and
// [*block.Block] both implement it, so the query code cannot tell them
// apart. Contracts are those of [block.Block]: Trace returns nil when the
// part has no span of the trace; Search returns hits newest first.
type reader interface {
	Trace(ctx context.Context, id model.TraceID) ([]*model.Span, error)
	Search(ctx context.Context, m *storage.Matcher, limit int) ([]block.Hit, error)
	Catalog() *block.Catalog
	AttributeValues(ctx context.Context, scope storage.AttrScope, name string, limit int) ([]model.Value, error)
	Dependencies(ctx context.Context, r storage.TimeRange, acc map[storage.DependencyKey]*storage.Dependency) error
}

var (
	_ reader = (*Head)(nil)
	_ reader = (*block.Block)(nil)
)

// part is one reader of a snapshot with its time bounds.
type part struct {
	r                reader
	minTime, maxTime uint64
	// blk is the block's handle, nil for a head.
	blk *blockHandle
}

// snapshot is the set of parts a query reads: the heads (newest data)
// first, then the blocks by MaxTime, newest first. It holds a reference on
// each block, so no block is closed under the query.
type snapshot struct {
	parts []part
	gen   uint64 // DB.blocksGen when taken
}

// begin starts a read: it fails after Close, and otherwise returns a
// snapshot that end releases.
func (db *DB) begin() (*snapshot, error) {
	db.lifeMu.RLock()
	if db.closed {
		db.lifeMu.RUnlock()
		return nil, storage.ErrClosed
	}
	return db.takeSnapshot(), nil
}

// end finishes a read started by begin.
func (db *DB) end(s *snapshot) {
	for _, p := range s.parts {
		if p.blk != nil {
			p.blk.release()
		}
	}
	db.lifeMu.RUnlock()
}

// takeSnapshot lists the parts to read and acquires the blocks.
func (db *DB) takeSnapshot() *snapshot {
	db.mu.RLock()
	defer db.mu.RUnlock()
	s := &snapshot{parts: make([]part, 0, len(db.blocks)+2), gen: db.blocksGen}
	for _, h := range []*Head{db.head, db.flushing} {
		if h == nil {
			continue
		}
		if lo, hi, ok := h.Bounds(); ok {
			s.parts = append(s.parts, part{r: h, minTime: lo, maxTime: hi})
		}
	}
	for _, bh := range sortedBlocksByMaxTime(db.blocks) {
		bh.acquire()
		s.parts = append(s.parts, part{r: bh.b, minTime: bh.meta.MinTime, maxTime: bh.meta.MaxTime, blk: bh})
	}
	return s
}

// partErr handles an error from reading a part: a corrupt block is
// quarantined and skipped (nil); anything else is returned.
func (db *DB) partErr(p part, err error) error {
	if err == nil {
		return nil
	}
	if p.blk != nil {
		return db.blockErr(p.blk, err)
	}
	return err
}

// Trace returns every stored span of the trace from the heads and from the
// blocks whose time range overlaps hint (every block when hint is zero).
// Blocks look the trace up in their own index, so nothing is scanned. A
// span stored twice (replayed from the WAL after its block was written, or
// exported twice across a cut) is returned once. Spans are sorted by start.
// The spans are the caller's: those from the head are deep copies.
func (db *DB) Trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) (*model.Trace, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	spans, err := db.traceSpans(ctx, s, id, hint)
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, storage.ErrNotFound
	}
	return &model.Trace{ID: id, Spans: spans}, nil
}

// traceSpans collects and deduplicates a trace's spans from a snapshot.
func (db *DB) traceSpans(ctx context.Context, s *snapshot, id model.TraceID, hint storage.TimeRange) ([]*model.Span, error) {
	var out []*model.Span
	for _, p := range s.parts {
		if p.blk != nil && !hint.IsZero() && !hint.Overlaps(p.minTime, p.maxTime) {
			continue
		}
		spans, err := p.r.Trace(ctx, id)
		if err != nil {
			if err := db.partErr(p, err); err != nil {
				return nil, err
			}
			continue
		}
		if p.blk == nil {
			var c spanCloner
			for _, sp := range spans {
				out = append(out, c.clone(sp))
			}
			continue
		}
		out = append(out, spans...)
	}
	return dedupeSpans(out), nil
}

// FindTraces returns summaries of the traces with a span matching q, newest
// first. It asks the heads and then the blocks, newest MaxTime first, for
// their newest hits, and stops early once it has q's limit of traces and
// the next block ends before the oldest of them. Each summary is computed
// by [storage.Summarize] from the whole trace, so that it counts spans from
// every part.
func (db *DB) FindTraces(ctx context.Context, q *storage.Query) ([]storage.TraceSummary, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	m, err := storage.NewMatcher(q)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	limit := q.EffectiveLimit()

	best := make(map[model.TraceID]uint64)
	for _, p := range s.parts {
		if !q.Range.Overlaps(p.minTime, p.maxTime) {
			continue
		}
		if p.blk != nil && len(best) >= limit && p.maxTime < kthNewest(best, limit) {
			break
		}
		hits, err := p.r.Search(ctx, m, limit)
		if err != nil {
			if err := db.partErr(p, err); err != nil {
				return nil, err
			}
			continue
		}
		for _, h := range hits {
			if cur, ok := best[h.TraceID]; !ok || h.StartUnixNano > cur {
				best[h.TraceID] = h.StartUnixNano
			}
		}
	}
	hits := make([]block.Hit, 0, len(best))
	for id, start := range best {
		hits = append(hits, block.Hit{TraceID: id, StartUnixNano: start})
	}
	sortHits(hits)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	sums, err := db.summarize(ctx, s, hits)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sums, func(a, b storage.TraceSummary) int {
		return cmp.Or(cmp.Compare(b.StartUnixNano, a.StartUnixNano), compareTraceIDs(a.TraceID, b.TraceID))
	})
	return sums, nil
}

// kthNewest returns the k-th largest start among the hits (k >= 1,
// len(best) >= k).
func kthNewest(best map[model.TraceID]uint64, k int) uint64 {
	starts := make([]uint64, 0, len(best))
	for _, s := range best {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	return starts[len(starts)-k]
}

// summarize fetches each hit's whole trace, concurrently, and summarises
// it. A trace that vanished meanwhile (retention) is left out.
func (db *DB) summarize(ctx context.Context, s *snapshot, hits []block.Hit) ([]storage.TraceSummary, error) {
	sums := make([]storage.TraceSummary, len(hits))
	found := make([]bool, len(hits))
	errs := make([]error, len(hits))
	workers := min(len(hits), runtime.GOMAXPROCS(0), maxSummaryWorkers)
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(hits) || ctx.Err() != nil {
					return
				}
				spans, err := db.traceSpans(ctx, s, hits[j].TraceID, storage.TimeRange{})
				if err != nil {
					errs[j] = err
					return
				}
				if len(spans) > 0 {
					sums[j] = storage.Summarize(&model.Trace{ID: hits[j].TraceID, Spans: spans})
					found[j] = true
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := sums[:0]
	for j := range hits {
		if errs[j] != nil {
			return nil, errs[j]
		}
		if found[j] {
			out = append(out, sums[j])
		}
	}
	return out, nil
}
