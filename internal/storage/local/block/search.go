package block

import (
	"cmp"
	"context"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Hit is one trace found by Search.
type Hit struct {
	TraceID model.TraceID
	// StartUnixNano is the start of the trace's earliest span in this block.
	StartUnixNano uint64
}

// Search returns up to limit traces (storage.DefaultLimit when limit <= 0)
// with at least one span matching m (time range and every condition on the
// same span), newest first by StartUnixNano, ties by trace ID.
//
// Conditions are evaluated on columns, never on decoded spans: service,
// resource and instrumentation conditions once per dictionary entry, span
// names once per symbol, string attributes once per distinct string of a
// row group. Row groups whose time range or symbol sets (services, names,
// attribute keys) exclude a match are not read, and only the columns the
// conditions need are read. Row groups are visited by descending largest
// trace start, and the search stops once limit traces are found that no
// remaining row group can beat.
func (b *Block) Search(ctx context.Context, m *storage.Matcher, limit int) ([]Hit, error) {
	if limit <= 0 {
		limit = storage.DefaultLimit
	}
	q := m.Query()
	if !q.Range.Overlaps(b.meta.MinTime, b.meta.MaxTime) {
		return nil, nil
	}
	p, ok, err := b.plan(q)
	if err != nil || !ok {
		return nil, err
	}
	var hits []Hit
	seen := map[model.TraceID]int{} // index in hits
	for _, gi := range b.newestFirst() {
		g := &b.rgs[gi]
		if len(hits) >= limit && g.maxTraceStart < hits[limit-1].StartUnixNano {
			break
		}
		if !q.Range.Overlaps(g.minStart, g.maxStart) || !p.mayMatch(g) {
			continue
		}
		rgHits, err := b.searchRowGroup(ctx, p, gi, b.newRGReader(gi))
		if err != nil {
			return nil, err
		}
		for _, h := range rgHits {
			if i, dup := seen[h.TraceID]; dup {
				hits[i].StartUnixNano = min(hits[i].StartUnixNano, h.StartUnixNano)
				continue
			}
			seen[h.TraceID] = len(hits)
			hits = append(hits, h)
		}
		if len(hits) >= limit {
			sortHits(hits)
			for _, h := range hits[limit:] {
				delete(seen, h.TraceID)
			}
			hits = hits[:limit]
			for i, h := range hits {
				seen[h.TraceID] = i
			}
		}
	}
	sortHits(hits)
	return hits, nil
}

func sortHits(h []Hit) {
	slices.SortFunc(h, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.StartUnixNano, a.StartUnixNano), compareIDs(a.TraceID, b.TraceID))
	})
}

func compareIDs(a, b model.TraceID) int { return cmp.Compare(string(a[:]), string(b[:])) }

// splitStart returns the block-wide first start of trace id when it is
// split across row groups.
func (b *Block) splitStart(id model.TraceID) (uint64, bool) {
	i, ok := slices.BinarySearchFunc(b.splits, id, func(s splitTrace, id model.TraceID) int { return compareIDs(s.id, id) })
	if !ok {
		return 0, false
	}
	return b.splits[i].minStart, true
}

// searchRowGroup evaluates the plan on row group gi, loading the columns
// it needs into d (columns already there are used as they are).
func (b *Block) searchRowGroup(ctx context.Context, p *plan, gi int, d *rgReader) ([]Hit, error) {
	g := &b.rgs[gi]
	loadOpen := func(cols ...int) error {
		if err := b.load(ctx, d, gi, cols...); err != nil {
			return err
		}
		for _, c := range cols {
			if err := d.open(c); err != nil {
				return b.decodeErr(gi, err)
			}
		}
		return nil
	}
	if err := loadOpen(colTrace); err != nil {
		return nil, err
	}
	n := g.spans
	e := &rgEval{b: b, d: d, p: p, alive: make([]bool, n), live: n}
	for i := range e.alive {
		e.alive[i] = true
	}
	rng := p.q.Range
	inRange := rng.Contains(g.minStart) && rng.Contains(g.maxStart)
	// rangeFilter drops the rows that start outside the query's range; it
	// runs after the cheapest conditions, which may have left nothing.
	rangeFilter := func() error {
		if inRange {
			return nil
		}
		inRange = true
		if e.live == 0 {
			return nil
		}
		if err := loadOpen(colStart); err != nil {
			return err
		}
		if err := e.loadStarts(); err != nil {
			return b.decodeErr(gi, err)
		}
		for i, s := range e.starts {
			if !rng.Contains(s) {
				e.kill(i)
			}
		}
		return nil
	}
	for ci := range p.conds {
		c := &p.conds[ci]
		if c.cost > 1 {
			if err := rangeFilter(); err != nil {
				return nil, err
			}
		}
		if e.live == 0 {
			return nil, nil
		}
		if c.kind == ckDuration && e.starts == nil && b.meta.MaxTime >= 1<<63 {
			// NB: only then can start+duration overflow for a duration
			// below 2^63; see apply.
			if err := loadOpen(colStart); err != nil {
				return nil, err
			}
			if err := e.loadStarts(); err != nil {
				return nil, b.decodeErr(gi, err)
			}
		}
		if err := loadOpen(c.columns(g)...); err != nil {
			return nil, err
		}
		if err := e.apply(c); err != nil {
			return nil, b.decodeErr(gi, err)
		}
	}
	if err := rangeFilter(); err != nil {
		return nil, err
	}
	if e.live == 0 {
		return nil, nil
	}
	// Group the surviving rows by trace.
	var hits []Hit
	d.rewindTraces()
	for {
		c, start, ok := d.nextTrace()
		if !ok {
			break
		}
		id := d.traceID(d.trace)
		for _, a := range e.alive[d.row : d.row+c] {
			if a {
				if (d.trace == 0 && g.flags&flagFirstContinued != 0) || (d.trace == g.traces-1 && g.flags&flagLastContinues != 0) {
					if s, ok := b.splitStart(id); ok {
						start = s
					}
				}
				hits = append(hits, Hit{TraceID: id, StartUnixNano: start})
				break
			}
		}
		d.row += c
		d.trace++
	}
	if err := d.err(); err != nil {
		return nil, b.decodeErr(gi, err)
	}
	return hits, nil
}

// rgEval holds the per-row state of a search in one row group.
type rgEval struct {
	b      *Block
	d      *rgReader
	p      *plan
	alive  []bool
	live   int
	starts []uint64
	hit    []bool
}

func (e *rgEval) kill(i int) {
	if e.alive[i] {
		e.alive[i] = false
		e.live--
	}
}

// loadStarts computes every row's start time from the trace and start
// columns.
func (e *rgEval) loadStarts() error {
	d := e.d
	e.starts = make([]uint64, 0, d.g.spans)
	for {
		c, start, ok := d.nextTrace()
		if !ok {
			break
		}
		e.starts = append(e.starts, start)
		for range c - 1 {
			start += d.starts.uvarint()
			e.starts = append(e.starts, start)
		}
		d.row += c
		d.trace++
	}
	if d.err() != nil || !d.starts.done() || len(e.starts) != d.g.spans {
		return errMalformed
	}
	d.rewindTraces()
	return nil
}

// rewindTraces restarts the trace column, for a second pass over it.
func (d *rgReader) rewindTraces() {
	d.trace, d.row = 0, 0
	d.trCounts.i, d.trStarts.i = 0, 0
}
