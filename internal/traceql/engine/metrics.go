package engine

import (
	"context"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

// MetricsRequest is a TraceQL metrics query over [Start, End) in steps of
// Step (all Unix nanoseconds).
type MetricsRequest struct {
	Query            string
	Start, End, Step uint64
}

// MetricsResult holds the series of a metrics query.
type MetricsResult struct {
	Query  *traceql.Query
	Grid   eval.Grid
	Series []eval.Series
	// Partial is set when some part of the range had more candidate
	// traces than the bound allowed to fetch: its values are too low.
	Partial bool
	Stats   Stats
}

// maxMetricsChunks is how many pieces the range is searched in, so that
// a bounded fetch covers the whole range rather than its newest end.
const maxMetricsChunks = 16

// QueryRange runs a metrics query. The series are computed from the spans
// of fetched candidate traces, not from pre-aggregated data: each
// candidate trace is evaluated like a search, and its matching spans that
// start in [Start, End) are counted in the step they start in. Candidates
// are bounded by Options.MetricsMaxTraces, spread over the range: it is
// searched in up to 16 chunks with an equal share each, then the budget
// the sparse chunks left is given to the chunks that used all of theirs.
// The result is partial when a chunk still had more candidates.
func (e *Engine) QueryRange(ctx context.Context, req MetricsRequest) (*MetricsResult, error) {
	q, ev, err := Prepare(req.Query, true)
	if err != nil {
		return nil, err
	}
	grid := eval.Grid{Start: req.Start, End: req.End, Step: req.Step}
	m, err := ev.NewMetrics(grid)
	if err != nil {
		return nil, query.BadRequest(err)
	}
	res := &MetricsResult{Query: q, Grid: grid}
	plan := NewPlan(q)
	evalRange := storage.TimeRange{Start: req.Start, End: req.End - 1}
	chunks := min(grid.Buckets(), maxMetricsChunks)
	width := (req.End - req.Start + uint64(chunks) - 1) / uint64(chunks)
	seen := map[model.TraceID]bool{}
	observe := func(found []candidate) {
		for _, c := range found {
			if seen[c.trace.ID] {
				continue
			}
			seen[c.trace.ID] = true
			res.Stats.inspect(c.trace)
			et := eval.NewTrace(c.trace)
			if sets := ev.Spansets(et, evalRange); len(sets) > 0 {
				m.Observe(et, eval.MatchedSpans(sets))
			}
		}
	}
	// First pass: an equal share of the budget per chunk. Chunks with
	// fewer candidates leave budget over, which a second pass gives to
	// the chunks that used all of theirs.
	budget := e.opts.MetricsMaxTraces
	share := max(budget/chunks, 1)
	used := 0
	var capped []storage.TimeRange
	for c := range chunks {
		r := storage.TimeRange{Start: req.Start + uint64(c)*width, End: min(req.Start+uint64(c+1)*width, req.End) - 1}
		if r.End < r.Start {
			continue
		}
		found, cutoff, err := e.candidates(ctx, plan, r, share, &res.Stats)
		if err != nil {
			return nil, err
		}
		used += len(found)
		if cutoff > 0 {
			capped = append(capped, r)
		}
		observe(found)
	}
	if left := budget - used; left > 0 && len(capped) > 0 {
		limit := share + left/len(capped)
		for i, r := range capped {
			found, cutoff, err := e.candidates(ctx, plan, r, limit, &res.Stats)
			if err != nil {
				return nil, err
			}
			if cutoff == 0 {
				capped[i] = storage.TimeRange{}
			}
			observe(found)
		}
		capped = slices.DeleteFunc(capped, func(r storage.TimeRange) bool { return r.IsZero() })
	}
	res.Partial = len(capped) > 0
	res.Series = m.Series()
	return res, nil
}
