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
// part has no span of the trace; SearchAfter returns hits newest first,
// only those ranking before floor when it is not nil.
type reader interface {
	Trace(ctx context.Context, id model.TraceID) ([]*model.Span, error)
	SearchAfter(ctx context.Context, m *storage.Matcher, limit int, floor *block.Hit) ([]block.Hit, error)
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
	// best is the best rank a search hit of a block can have
	// ([block.Block.Best]); zero for a head.
	best block.Hit
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
		s.parts = append(s.parts, part{r: bh.b, minTime: bh.meta.MinTime, maxTime: bh.meta.MaxTime, blk: bh, best: bh.b.Best()})
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
// first. See [DB.FindTracesFull], which it is without the traces.
func (db *DB) FindTraces(ctx context.Context, q *storage.Query) ([]storage.TraceSummary, error) {
	_, sums, err := db.findTraces(ctx, q, false)
	return sums, err
}

// FindTracesFull returns the traces with a span matching q and their
// summaries, newest first: traces[i] is the trace sums[i] describes. It
// asks the heads and then the blocks, in order of the best hit each block
// can hold ([block.Block.Best]), for the hits that rank before the
// q.Limit-th it already has, and stops at the first block that cannot beat
// it. Each trace found is then fetched once, from every part, and
// summarised by [storage.Summarize], so that a summary counts the spans of
// every part. The traces are the caller's.
func (db *DB) FindTracesFull(ctx context.Context, q *storage.Query) ([]*model.Trace, []storage.TraceSummary, error) {
	return db.findTraces(ctx, q, true)
}

// findTraces carries out FindTraces and FindTracesFull; the traces are
// returned only when full is set.
func (db *DB) findTraces(ctx context.Context, q *storage.Query, full bool) ([]*model.Trace, []storage.TraceSummary, error) {
	if err := q.Validate(); err != nil {
		return nil, nil, fmt.Errorf("local: %w", err)
	}
	m, err := storage.NewMatcher(q)
	if err != nil {
		return nil, nil, fmt.Errorf("local: %w", err)
	}
	s, err := db.begin()
	if err != nil {
		return nil, nil, err
	}
	defer db.end(s)
	hits, err := db.searchHits(ctx, s, q, m)
	if err != nil {
		return nil, nil, err
	}
	traces, sums, err := db.fetchFound(ctx, s, hits, full)
	if err != nil {
		return nil, nil, err
	}
	order := make([]int, len(sums))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &sums[i], &sums[j]
		return cmp.Or(cmp.Compare(b.StartUnixNano, a.StartUnixNano), compareTraceIDs(a.TraceID, b.TraceID))
	})
	outSums := make([]storage.TraceSummary, len(sums))
	var outTraces []*model.Trace
	if full {
		outTraces = make([]*model.Trace, len(sums))
	}
	for k, i := range order {
		outSums[k] = sums[i]
		if full {
			outTraces[k] = traces[i]
		}
	}
	return outTraces, outSums, nil
}

// searchHits returns the newest q.Limit hits of the parts of s, best first.
// A trace with hits in several parts ranks by its newest start among them.
func (db *DB) searchHits(ctx context.Context, s *snapshot, q *storage.Query, m *storage.Matcher) ([]block.Hit, error) {
	limit := q.EffectiveLimit()
	parts := slices.Clone(s.parts)
	// NB: heads first (they have no bound), then blocks by their best
	// possible hit, so that the first block that cannot beat the floor
	// ends the search.
	slices.SortStableFunc(parts, func(a, b part) int {
		switch {
		case a.blk == nil || b.blk == nil:
			return cmp.Compare(boolInt(a.blk != nil), boolInt(b.blk != nil))
		case a.best.Before(b.best):
			return -1
		case b.best.Before(a.best):
			return 1
		}
		return 0
	})
	top := newHitSet(limit)
	for _, p := range parts {
		if !q.Range.Overlaps(p.minTime, p.maxTime) {
			continue
		}
		floor := top.floor()
		if p.blk != nil && floor != nil && !p.best.Before(*floor) {
			break
		}
		hits, err := p.r.SearchAfter(ctx, m, limit, floor)
		if err != nil {
			if err := db.partErr(p, err); err != nil {
				return nil, err
			}
			continue
		}
		top.merge(hits)
	}
	return top.sorted(), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hitSet merges the hits of several parts, keeping the best limit traces.
// A trace found in several parts keeps its newest start, so that a
// trace's rank only ever rises and the limit-th hit is a valid floor for
// the parts still to be searched.
type hitSet struct {
	limit int
	best  map[model.TraceID]uint64
	kth   block.Hit
	full  bool
}

func newHitSet(limit int) *hitSet {
	return &hitSet{limit: limit, best: make(map[model.TraceID]uint64)}
}

// merge adds the hits of one part.
func (t *hitSet) merge(hits []block.Hit) {
	if len(hits) == 0 {
		return
	}
	for _, h := range hits {
		if cur, ok := t.best[h.TraceID]; !ok || h.StartUnixNano > cur {
			t.best[h.TraceID] = h.StartUnixNano
		}
	}
	if len(t.best) < t.limit {
		return
	}
	// NB: a trace dropped here can come back only with a newer start,
	// which is what it would have been raised to anyway.
	sorted := t.sorted()
	for _, h := range sorted[t.limit:] {
		delete(t.best, h.TraceID)
	}
	t.kth, t.full = sorted[t.limit-1], true
}

// floor returns the limit-th hit once there are limit of them.
func (t *hitSet) floor() *block.Hit {
	if !t.full {
		return nil
	}
	f := t.kth
	return &f
}

// sorted returns the hits best first.
func (t *hitSet) sorted() []block.Hit {
	hits := make([]block.Hit, 0, len(t.best))
	for id, start := range t.best {
		hits = append(hits, block.Hit{TraceID: id, StartUnixNano: start})
	}
	sortHits(hits)
	return hits
}

// fetchFound fetches each hit's whole trace and summarises it; the traces
// are kept only when full is set. A trace that vanished meanwhile
// (retention) is left out. Results are in the order of hits.
//
// The heads answer from their maps. Each block is asked for all the traces
// its filter may hold at once ([block.Block.Traces]), so that a row group
// holding several of them is decoded once; the blocks' work is spread over
// up to GOMAXPROCS goroutines, a block's IDs split into runs of adjacent
// IDs (which share row groups) when there are fewer blocks than goroutines.
func (db *DB) fetchFound(ctx context.Context, s *snapshot, hits []block.Hit, full bool) ([]*model.Trace, []storage.TraceSummary, error) {
	ids := make([]model.TraceID, len(hits))
	for i, h := range hits {
		ids[i] = h.TraceID
	}
	spans := make([][]*model.Span, len(ids))
	type task struct {
		p   part
		idx []int // positions in ids, by trace ID
	}
	var tasks []task
	for _, p := range s.parts {
		if p.blk == nil {
			for k, id := range ids {
				got, err := p.r.Trace(ctx, id)
				if err != nil {
					return nil, nil, err
				}
				var c spanCloner
				for _, sp := range got {
					spans[k] = append(spans[k], c.clone(sp))
				}
			}
			continue
		}
		var idx []int
		for k, id := range ids {
			if p.blk.b.MayHold(id) {
				idx = append(idx, k)
			}
		}
		if len(idx) > 0 {
			slices.SortFunc(idx, func(a, b int) int { return compareTraceIDs(ids[a], ids[b]) })
			tasks = append(tasks, task{p, idx})
		}
	}
	workers := min(runtime.GOMAXPROCS(0), maxSummaryWorkers)
	if n := len(tasks); n > 0 && n < workers {
		var split []task
		for _, t := range tasks {
			per := (len(t.idx) + workers/n - 1) / (workers / n)
			for c := range slices.Chunk(t.idx, max(per, 1)) {
				split = append(split, task{t.p, c})
			}
		}
		tasks = split
	}
	var (
		mu      sync.Mutex
		next    int
		firstEr error
		wg      sync.WaitGroup
	)
	for range min(workers, len(tasks)) {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= len(tasks) || firstEr != nil || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				t := tasks[next]
				next++
				mu.Unlock()
				want := make([]model.TraceID, len(t.idx))
				for i, k := range t.idx {
					want[i] = ids[k]
				}
				got, err := t.p.blk.b.Traces(ctx, want)
				mu.Lock()
				if err != nil {
					if err := db.partErr(t.p, err); err != nil && firstEr == nil {
						firstEr = err
					}
				} else {
					for i, k := range t.idx {
						spans[k] = append(spans[k], got[i]...)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if firstEr != nil {
		return nil, nil, firstEr
	}
	var traces []*model.Trace
	sums := make([]storage.TraceSummary, 0, len(ids))
	for k, id := range ids {
		if len(spans[k]) == 0 {
			continue
		}
		t := &model.Trace{ID: id, Spans: dedupeSpans(spans[k])}
		sums = append(sums, storage.Summarize(t))
		if full {
			traces = append(traces, t)
		}
	}
	return traces, sums, nil
}
