package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// The engine keeps per-minute statistics of service edges (a child span
// whose parent span belongs to another service: calls, errors and a
// latency sketch of the child's durations) beside the operation
// statistics. An edge needs both of its spans, which may arrive in
// different requests, so the head does not keep them on append: a cut
// computes them from the head's whole traces and writes them into the
// block as the extra file [edgesFile]; a compaction recomputes them from
// the merged traces it writes. The head's edges, and those of a block
// written without the file, are computed from their spans when read
// (a block's once, then kept in memory).
const (
	// edgesFile is the name of a block's edge statistics file.
	edgesFile = "edges"
	// edgesMagic and edgesVersion open the edge statistics file.
	edgesMagic   = "CLWE"
	edgesVersion = 1
)

// edgeKey is one cell of edge statistics: a service pair in one minute of
// the child spans' start.
type edgeKey struct {
	parent, child string
	minute        uint64 // Unix nanoseconds at the minute's start
}

// edgeStats maps cells to their statistics. It is not safe for concurrent
// use.
type edgeStats map[edgeKey]*statsCell

// addTrace counts the edges of one trace (see [storage.ForEachEdge])
// whose child starts in r.
func (m edgeStats) addTrace(spans []*model.Span, r storage.TimeRange) {
	storage.ForEachEdge(spans, func(p, c *model.Span) {
		if !r.Contains(c.StartUnixNano) {
			return
		}
		k := edgeKey{parent: p.Service(), child: c.Service(), minute: c.StartUnixNano - c.StartUnixNano%statsResolution}
		cell := m[k]
		if cell == nil {
			cell = &statsCell{}
			m[k] = cell
		}
		cell.calls++
		if c.StatusCode == model.StatusError {
			cell.errors++
		}
		cell.latency.Add(float64(c.Duration()))
	})
}

// removeTrace takes back what addTrace(spans, r) counted, dropping cells
// that reach zero calls.
func (m edgeStats) removeTrace(spans []*model.Span, r storage.TimeRange) {
	storage.ForEachEdge(spans, func(p, c *model.Span) {
		if !r.Contains(c.StartUnixNano) {
			return
		}
		k := edgeKey{parent: p.Service(), child: c.Service(), minute: c.StartUnixNano - c.StartUnixNano%statsResolution}
		cell := m[k]
		if cell == nil || cell.calls == 0 {
			return
		}
		cell.calls--
		if c.StatusCode == model.StatusError && cell.errors > 0 {
			cell.errors--
		}
		cell.latency.Remove(float64(c.Duration()))
		if cell.calls == 0 {
			delete(m, k)
		}
	})
}

// mergeInto adds the cells of m overlapping r to dst (copying them, so
// that dst can be changed without changing m).
func (m edgeStats) mergeInto(dst edgeStats, r storage.TimeRange) {
	for k, c := range m {
		if !r.Overlaps(k.minute, k.minute+statsResolution-1) {
			continue
		}
		d := dst[k]
		if d == nil {
			d = &statsCell{}
			dst[k] = d
		}
		d.calls += c.calls
		d.errors += c.errors
		d.latency.Merge(&c.latency)
	}
}

// addTo merges the cells of m that overlap q's range into b. A cell counts
// whole, in the bucket holding the later of its start and the range's.
func (m edgeStats) addTo(b *storage.EdgeStatsBuilder, q storage.StatsQuery) {
	for k, c := range m {
		if !q.Range.Overlaps(k.minute, k.minute+statsResolution-1) {
			continue
		}
		b.AddBucket(k.parent, k.child, max(k.minute, q.Range.Start), c.calls, c.errors, &c.latency)
	}
}

// marshal encodes the edge statistics file (see docs/storage-format.md):
//
//	magic "CLWE" | version u8 | uvarint(cells) | cell...
//	cell: uvarint(len) parent | uvarint(len) child | uvarint(minute) |
//	      uvarint(calls) | uvarint(errors) | uvarint(len) sketch
//
// with minute and sketch as in the statistics file. Cells are sorted by
// parent, child and minute.
func (m edgeStats) marshal() []byte {
	keys := make([]edgeKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b edgeKey) int {
		return cmp.Or(cmp.Compare(a.parent, b.parent), cmp.Compare(a.child, b.child), cmp.Compare(a.minute, b.minute))
	})
	w := newCellWriter(edgesMagic, edgesVersion, len(m))
	for _, k := range keys {
		w.string(k.parent)
		w.string(k.child)
		w.cell(k.minute, m[k])
	}
	return w.b
}

// unmarshalEdges decodes a file written by marshal; b is untrusted.
func unmarshalEdges(b []byte) (edgeStats, error) {
	r, n, err := openCells(b, edgesMagic, edgesVersion, errEdgesMalformed)
	if err != nil {
		return nil, err
	}
	m := make(edgeStats, n)
	for range n {
		var k edgeKey
		k.parent = r.string()
		k.child = r.string()
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

// edgesOf returns the block's edge statistics: from its file, or, for a
// block written without one, from its spans, computed once and kept.
func (h *blockHandle) edgesOf(ctx context.Context) (edgeStats, error) {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	if h.edges != nil {
		return h.edges, nil
	}
	c, err := h.b.ReadFile(edgesFile)
	switch {
	case err == nil:
		st, err := unmarshalEdges(c)
		if err != nil {
			return nil, &block.CorruptionError{Dir: h.dir, File: edgesFile, Err: err}
		}
		h.edges = st
	case errors.Is(err, block.ErrNoFile):
		st := edgeStats{}
		var trace []*model.Span
		all := storage.TimeRange{}
		for s, err := range h.b.Spans(ctx) {
			if err != nil {
				return nil, err
			}
			if len(trace) > 0 && trace[0].TraceID != s.TraceID {
				st.addTrace(trace, all)
				trace = trace[:0]
			}
			trace = append(trace, s)
		}
		st.addTrace(trace, all)
		h.edges = st
	default:
		return nil, err
	}
	return h.edges, nil
}

// edgesInto adds the edges of the head's traces whose child spans start in
// r to dst, computed from the spans.
func (h *Head) edgesInto(ctx context.Context, dst edgeStats, r storage.TimeRange) error {
	for i, spans := range h.tracesIn(r) {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		dst.addTrace(spans, r)
	}
	return nil
}

var _ storage.StatsReader = (*DB)(nil)

// EdgeStats implements [storage.StatsReader] from the per-minute edge
// statistics of the blocks overlapping q.Range and the edges of the heads'
// traces. A minute that overlaps the range counts whole, as in
// OperationStats. Each part counts the edges within itself; a trace whose
// spans lie in several of the recent parts (heads and level-0 blocks,
// which compaction has not merged yet) is counted again from its merged,
// deduplicated spans in place of the per-part counts, as Dependencies does.
func (db *DB) EdgeStats(ctx context.Context, q storage.StatsQuery) ([]storage.EdgeStats, error) {
	if q.Step < 0 {
		return nil, fmt.Errorf("local: negative step %v", q.Step)
	}
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	// NB: whole minutes, so that recounting a trace from its spans
	// takes back exactly what its parts' cells hold.
	r := q.Range
	r.Start -= r.Start % statsResolution
	if r.End != 0 && r.End < ^uint64(0)-statsResolution {
		r.End += statsResolution - 1 - r.End%statsResolution
	}
	cells := edgeStats{}
	var recent []*part
	for i := range s.parts {
		p := &s.parts[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !r.Overlaps(p.minTime, p.maxTime) {
			continue
		}
		if p.blk == nil {
			if err := p.r.(*Head).edgesInto(ctx, cells, r); err != nil {
				return nil, err
			}
			recent = append(recent, p)
			continue
		}
		st, err := p.blk.edgesOf(ctx)
		if err != nil {
			if err := db.partErr(*p, err); err != nil {
				return nil, err
			}
			continue
		}
		st.mergeInto(cells, r)
		if p.blk.meta.Level == 0 {
			recent = append(recent, p)
		}
	}
	if len(recent) > 1 {
		err := db.forSplitTraces(ctx, recent, r, func(perPart [][]*model.Span, merged []*model.Span) {
			for _, spans := range perPart {
				cells.removeTrace(spans, r)
			}
			cells.addTrace(merged, r)
		})
		if err != nil {
			return nil, err
		}
	}
	b := storage.NewEdgeStatsBuilder(q)
	cells.addTo(b, q)
	return b.Result(), nil
}
