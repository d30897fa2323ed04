package block

import (
	"bytes"
	"cmp"
	"context"
	"math"
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

// Before reports whether h ranks before o in search order: newer (a later
// StartUnixNano), or as new with a smaller trace ID.
func (h Hit) Before(o Hit) bool {
	if h.StartUnixNano != o.StartUnixNano {
		return h.StartUnixNano > o.StartUnixNano
	}
	return compareIDs(h.TraceID, o.TraceID) < 0
}

// mayBeat reports whether a hit from row group g can rank before floor:
// its start is at most g.maxTraceStart and its trace ID at least
// g.firstTrace.
func (g *rowGroup) mayBeat(floor *Hit) bool {
	return floor == nil || Hit{TraceID: g.firstTrace, StartUnixNano: g.maxTraceStart}.Before(*floor)
}

// Best returns the best rank any hit of the block can have: the latest
// first-span start of any of its traces, with its smallest trace ID. A
// caller merging several blocks visits them in this order and skips a
// block whose Best does not rank before the k-th hit it already has.
func (b *Block) Best() Hit { return b.best }

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
// trace start (then ascending trace ID), and once limit traces are found,
// a row group none of whose traces can rank before the limit-th is skipped
// and, within a row group, so are the traces that cannot.
func (b *Block) Search(ctx context.Context, m *storage.Matcher, limit int) ([]Hit, error) {
	return b.SearchAfter(ctx, m, limit, nil)
}

// SearchAfter is Search restricted to the hits that rank before floor (see
// [Hit.Before]); a nil floor restricts nothing. A caller merging the hits
// of several blocks passes the limit-th hit it already holds, so that the
// row groups and traces that cannot improve its result are never read.
func (b *Block) SearchAfter(ctx context.Context, m *storage.Matcher, limit int, floor *Hit) ([]Hit, error) {
	if limit <= 0 {
		limit = storage.DefaultLimit
	}
	q := m.Query()
	if !q.Range.Overlaps(b.meta.MinTime, b.meta.MaxTime) || (floor != nil && !b.best.Before(*floor)) {
		return nil, nil
	}
	p, ok, err := b.plan(q)
	if err != nil || !ok {
		return nil, err
	}
	top := NewTopHits(limit, floor)
	for _, gi := range b.order {
		g := &b.rgs[gi]
		if !g.mayBeat(top.Floor()) {
			// NB: row groups are in rank order of their best possible
			// hit, so none of the rest can beat the floor either.
			break
		}
		if !q.Range.Overlaps(g.minStart, g.maxStart) || !p.mayMatch(g) {
			continue
		}
		if err := b.searchRowGroup(ctx, p, gi, b.newRGReader(gi), top); err != nil {
			return nil, err
		}
	}
	return top.Result(), nil
}

// SearchAll returns every trace with a span matching m's query, in no
// particular order: Search without a limit, for callers that want the set
// of traces (the engine's recount of traces split across blocks), which
// skips the ranking a limit needs.
func (b *Block) SearchAll(ctx context.Context, m *storage.Matcher) ([]Hit, error) {
	q := m.Query()
	if !q.Range.Overlaps(b.meta.MinTime, b.meta.MaxTime) {
		return nil, nil
	}
	p, ok, err := b.plan(q)
	if err != nil || !ok {
		return nil, err
	}
	top := NewTopHits(unlimited, nil)
	for gi := range b.rgs {
		g := &b.rgs[gi]
		if !q.Range.Overlaps(g.minStart, g.maxStart) || !p.mayMatch(g) {
			continue
		}
		if err := b.searchRowGroup(ctx, p, gi, b.newRGReader(gi), top); err != nil {
			return nil, err
		}
	}
	return top.hits, nil
}

// unlimited is the limit of a TopHits that keeps every hit: it appends
// instead of keeping a heap.
const unlimited = math.MaxInt

// TopHits keeps the best limit hits offered to it, in a heap whose root is
// the worst of them. Once it holds limit hits, its floor is that root, and
// only hits ranking before the floor (see [Hit.Before]) are added. A trace
// offered again is ignored (a trace split across row groups is offered
// once per row group, always with the same start). Not safe for
// concurrent use.
type TopHits struct {
	limit int
	floor *Hit // nil: no bound yet
	hits  []Hit
	seen  map[model.TraceID]struct{}
	bound Hit // storage for floor
}

// NewTopHits returns an empty TopHits keeping limit hits (limit > 0) that
// rank before floor (nil: no bound).
func NewTopHits(limit int, floor *Hit) *TopHits {
	t := &TopHits{limit: limit, seen: make(map[model.TraceID]struct{})}
	if floor != nil {
		t.bound = *floor
		t.floor = &t.bound
	}
	return t
}

// Floor returns the hit a new hit must rank before to be kept, or nil.
// The floor only ever rises.
func (t *TopHits) Floor() *Hit { return t.floor }

// Beats reports whether h would be kept.
func (t *TopHits) Beats(h Hit) bool { return t.floor == nil || h.Before(*t.floor) }

// Add offers a hit.
func (t *TopHits) Add(h Hit) {
	if !t.Beats(h) {
		return
	}
	if _, dup := t.seen[h.TraceID]; dup {
		return
	}
	t.seen[h.TraceID] = struct{}{}
	if t.limit == unlimited {
		t.hits = append(t.hits, h)
		return
	}
	if len(t.hits) < t.limit {
		t.hits = append(t.hits, h)
		t.up(len(t.hits) - 1)
	} else {
		delete(t.seen, t.hits[0].TraceID)
		t.hits[0] = h
		t.down(0)
	}
	if len(t.hits) == t.limit {
		t.bound = t.hits[0]
		t.floor = &t.bound
	}
}

// worse reports whether hit i of the heap ranks after hit j.
func (t *TopHits) worse(i, j int) bool { return t.hits[j].Before(t.hits[i]) }

func (t *TopHits) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.hits[i], t.hits[p] = t.hits[p], t.hits[i]
		i = p
	}
}

func (t *TopHits) down(i int) {
	n := len(t.hits)
	for {
		w := i
		if l := 2*i + 1; l < n && t.worse(l, w) {
			w = l
		}
		if r := 2*i + 2; r < n && t.worse(r, w) {
			w = r
		}
		if w == i {
			return
		}
		t.hits[i], t.hits[w] = t.hits[w], t.hits[i]
		i = w
	}
}

// Result returns the hits, best first. The TopHits must not be used
// afterwards.
func (t *TopHits) Result() []Hit {
	if len(t.hits) == 0 {
		return nil
	}
	sortHits(t.hits)
	return t.hits
}

func sortHits(h []Hit) {
	slices.SortFunc(h, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.StartUnixNano, a.StartUnixNano), compareIDs(a.TraceID, b.TraceID))
	})
}

func compareIDs(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) }

// rankOrder returns the row groups in rank order of their best possible
// hit: descending maxTraceStart, then ascending firstTrace.
func rankOrder(rgs []rowGroup) []int {
	order := make([]int, len(rgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ga, gb := &rgs[a], &rgs[b]
		return cmp.Or(cmp.Compare(gb.maxTraceStart, ga.maxTraceStart), compareIDs(ga.firstTrace, gb.firstTrace))
	})
	return order
}

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
// it needs into d (columns already there are used as they are), and offers
// its hits to top. Traces that cannot beat top's floor are dropped before
// any condition column is read.
func (b *Block) searchRowGroup(ctx context.Context, p *plan, gi int, d *rgReader, top *TopHits) error {
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
		return err
	}
	n := g.spans
	e := &rgEval{b: b, d: d, p: p, alive: make([]bool, n), live: n}
	for i := range e.alive {
		e.alive[i] = true
	}
	if top.Floor() != nil {
		// Drop the traces that cannot beat the floor before reading
		// anything else: once the result is full, most row groups hold
		// only a few traces new enough to matter, often none.
		for {
			c, start, ok := d.nextTrace()
			if !ok {
				break
			}
			if !top.Beats(Hit{TraceID: d.traceID(d.trace), StartUnixNano: b.hitStart(d, start)}) {
				for i := d.row; i < d.row+c; i++ {
					e.kill(i)
				}
			}
			d.row += c
			d.trace++
		}
		if err := d.err(); err != nil {
			return b.decodeErr(gi, err)
		}
		d.rewindTraces()
		if e.live == 0 {
			return nil
		}
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
				return err
			}
		}
		if e.live == 0 {
			return nil
		}
		if c.kind == ckDuration && e.starts == nil && b.meta.MaxTime >= 1<<63 {
			// NB: only then can start+duration overflow for a duration
			// below 2^63; see apply.
			if err := loadOpen(colStart); err != nil {
				return err
			}
			if err := e.loadStarts(); err != nil {
				return b.decodeErr(gi, err)
			}
		}
		if err := loadOpen(c.columns(g)...); err != nil {
			return err
		}
		if err := e.apply(c); err != nil {
			return b.decodeErr(gi, err)
		}
	}
	if err := rangeFilter(); err != nil {
		return err
	}
	if e.live == 0 {
		return nil
	}
	// Group the surviving rows by trace.
	d.rewindTraces()
	for {
		c, start, ok := d.nextTrace()
		if !ok {
			break
		}
		if slices.Contains(e.alive[d.row:d.row+c], true) {
			top.Add(Hit{TraceID: d.traceID(d.trace), StartUnixNano: b.hitStart(d, start)})
		}
		d.row += c
		d.trace++
	}
	if err := d.err(); err != nil {
		return b.decodeErr(gi, err)
	}
	return nil
}

// hitStart returns the start a hit on the trace d is at has: start, its
// first start in this row group, unless the trace is split across row
// groups, whose first start in the whole block is in the index.
func (b *Block) hitStart(d *rgReader, start uint64) uint64 {
	g := d.g
	if (d.trace == 0 && g.flags&flagFirstContinued != 0) || (d.trace == g.traces-1 && g.flags&flagLastContinues != 0) {
		if s, ok := b.splitStart(d.traceID(d.trace)); ok {
			return s
		}
	}
	return start
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
