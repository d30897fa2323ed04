package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// The engine keeps per-operation statistics (calls, errors and a latency
// sketch) per minute of span start: the head updates them on append, a
// cut writes them into the block as the extra file [statsFile], and a
// compaction recomputes them from the spans it writes (so that a span
// stored twice across blocks is counted once there, as reads return it
// once). A block written without the file has its statistics computed
// once from its spans and kept in memory.
const (
	// statsFile is the name of a block's statistics file.
	statsFile = "stats"
	// statsMagic and statsVersion open the statistics file.
	statsMagic   = "CLWS"
	statsVersion = 1
	// statsResolution is the width of the statistics' time cells.
	statsResolution = uint64(storage.StatsResolution)
)

// statsKey is one cell of statistics: an operation in one minute.
type statsKey struct {
	service, name string
	kind          model.SpanKind
	minute        uint64 // Unix nanoseconds at the minute's start
}

// statsCell accumulates the spans of one statsKey.
type statsCell struct {
	calls, errors uint64
	latency       sketch.Sketch
}

// opStats maps cells to their statistics. It is not safe for concurrent
// use; the head guards its own with its lock.
type opStats map[statsKey]*statsCell

// statsCellBytes estimates a cell's memory beside its sketch: the map
// entry (key with two string headers, pointer) and the cell's counters.
const statsCellBytes = 2*16 + 8 + 8 + 8 + 16

// add counts a span and returns how many bytes the statistics grew by
// (estimated), which the head counts against its memory bound.
func (m opStats) add(s *model.Span, svc string) int {
	k := statsKey{service: svc, name: s.Name, kind: s.Kind, minute: s.StartUnixNano - s.StartUnixNano%statsResolution}
	c := m[k]
	grew := 0
	if c == nil {
		c = &statsCell{}
		m[k] = c
		grew = statsCellBytes
	}
	c.calls++
	if s.StatusCode == model.StatusError {
		c.errors++
	}
	before := c.latency.Footprint()
	c.latency.Add(float64(s.Duration()))
	if grew > 0 {
		// NB: a new cell's strings may share the span's memory, but
		// count its sketch whole.
		return grew + c.latency.Footprint()
	}
	return c.latency.Footprint() - before
}

// addTo merges the cells of m that overlap q's range into b. A cell counts
// whole: its spans are put in the bucket holding the later of the cell's
// start and the range's start.
func (m opStats) addTo(b *storage.StatsBuilder, q storage.StatsQuery) {
	for k, c := range m {
		if !q.Range.Overlaps(k.minute, k.minute+statsResolution-1) || !b.Matches(k.service, k.name) {
			continue
		}
		b.AddBucket(k.service, k.name, k.kind, max(k.minute, q.Range.Start), c.calls, c.errors, &c.latency)
	}
}

// sortedKeys returns the keys in file order.
func (m opStats) sortedKeys() []statsKey {
	keys := make([]statsKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statsKey) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.name, b.name), cmp.Compare(a.kind, b.kind), cmp.Compare(a.minute, b.minute))
	})
	return keys
}

// marshal encodes the statistics file (see docs/storage-format.md):
//
//	magic "CLWS" | version u8 | uvarint(cells) | cell...
//	cell: uvarint(len) service | uvarint(len) name | kind u8 |
//	      uvarint(minute) | uvarint(calls) | uvarint(errors) |
//	      uvarint(len) sketch
//
// where minute counts minutes since the Unix epoch and sketch is
// [sketch.Sketch.AppendBinary]. Cells are sorted by service, name, kind
// and minute. The block's meta.json holds the file's size and CRC-32C.
func (m opStats) marshal() []byte {
	w := newCellWriter(statsMagic, statsVersion, len(m))
	for _, k := range m.sortedKeys() {
		w.string(k.service)
		w.string(k.name)
		w.b = append(w.b, byte(k.kind))
		w.cell(k.minute, m[k])
	}
	return w.b
}

// unmarshalStats decodes a statistics file written by marshal.
func unmarshalStats(b []byte) (opStats, error) {
	r, n, err := openCells(b, statsMagic, statsVersion, errStatsMalformed)
	if err != nil {
		return nil, err
	}
	m := make(opStats, n)
	for range n {
		var k statsKey
		k.service = r.string()
		k.name = r.string()
		k.kind = model.SpanKind(r.byte())
		minute, c, err := r.cell()
		if err != nil {
			return nil, err
		}
		k.minute = minute
		m[k] = c
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return m, nil
}

// blockStatsFiles returns the extra-file hook that writes st and ed into
// a block. Both are called once every span has been appended.
func blockStatsFiles(st func() opStats, ed func() edgeStats) func() []block.ExtraFile {
	return func() []block.ExtraFile {
		return []block.ExtraFile{{Name: statsFile, Data: st().marshal()}, {Name: edgesFile, Data: ed().marshal()}}
	}
}

// statsOf returns the block's statistics: from its statistics file, or,
// for a block written without one, from its spans, computed once and kept.
func (h *blockHandle) statsOf(ctx context.Context) (opStats, error) {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	if h.stats != nil {
		return h.stats, nil
	}
	c, err := h.b.ReadFile(statsFile)
	switch {
	case err == nil:
		st, err := unmarshalStats(c)
		if err != nil {
			return nil, &block.CorruptionError{Dir: h.dir, File: statsFile, Err: err}
		}
		h.stats = st
	case errors.Is(err, block.ErrNoFile):
		st := opStats{}
		for s, err := range h.b.Spans(ctx) {
			if err != nil {
				return nil, err
			}
			st.add(s, s.Service())
		}
		h.stats = st
	default:
		return nil, err
	}
	return h.stats, nil
}

// OperationStats implements [storage.StatsReader] from the per-minute
// statistics of the heads and of the blocks overlapping q.Range. A minute
// that overlaps the range counts whole, in the bucket holding the later of
// its start and q.Range.Start; a Range.Start and Step in whole minutes
// make the buckets exact. A span stored twice across parts (replayed from
// the WAL after its block was written) is counted twice until compaction.
func (db *DB) OperationStats(ctx context.Context, q storage.StatsQuery) ([]storage.OperationStats, error) {
	if q.Step < 0 {
		return nil, fmt.Errorf("local: negative step %v", q.Step)
	}
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	b := storage.NewStatsBuilder(q)
	for _, p := range s.parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !q.Range.Overlaps(p.minTime-p.minTime%statsResolution, p.maxTime) {
			continue
		}
		if p.blk == nil {
			p.r.(*Head).statsInto(b, q)
			continue
		}
		st, err := p.blk.statsOf(ctx)
		if err := db.partErr(p, err); err != nil {
			return nil, err
		}
		st.addTo(b, q)
	}
	return b.Result(), nil
}

// statsInto merges the head's statistics overlapping q into b.
func (h *Head) statsInto(b *storage.StatsBuilder, q storage.StatsQuery) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	h.stats.addTo(b, q)
}

// statsCopy returns a copy of the head's statistics, for a cut.
func (h *Head) statsCopy() opStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(opStats, len(h.stats))
	for k, c := range h.stats {
		n := &statsCell{calls: c.calls, errors: c.errors}
		n.latency.Merge(&c.latency)
		out[k] = n
	}
	return out
}
