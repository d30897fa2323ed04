package query

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// MaxAlternatives bounds how many storage queries one [Search] may expand
// into, since each is a separate scan of the backend.
const MaxAlternatives = 16

// Search selects traces: a trace matches when one of its spans starts in
// Range, satisfies every one of Conditions and, for every clause of AnyOf,
// at least one condition of that clause. Results are newest first, at most
// Query.EffectiveLimit of them.
//
// AnyOf exists because Jaeger and Zipkin tag filters are looser than
// storage conditions: "error=true" means the span's status is an error or
// it carries an error attribute. See [TagFilter].
type Search struct {
	storage.Query
	AnyOf [][]storage.Condition
}

// expand turns s into storage queries whose union is s: one per choice of
// a condition from each AnyOf clause.
func (s *Search) expand() ([]*storage.Query, error) {
	n := 1
	for _, clause := range s.AnyOf {
		if len(clause) == 0 {
			return nil, BadRequestf("search has an empty alternative")
		}
		n *= len(clause)
		if n > MaxAlternatives {
			return nil, BadRequestf("search expands into more than %d alternatives", MaxAlternatives)
		}
	}
	qs := []*storage.Query{{
		Range:      s.Range,
		Limit:      s.Limit,
		Conditions: slices.Clone(s.Conditions),
	}}
	for _, clause := range s.AnyOf {
		next := make([]*storage.Query, 0, len(qs)*len(clause))
		for _, q := range qs {
			for _, c := range clause {
				nq := *q
				nq.Conditions = append(slices.Clip(q.Conditions), c)
				next = append(next, &nq)
			}
		}
		qs = next
	}
	for _, q := range qs {
		if err := q.Validate(); err != nil {
			return nil, BadRequest(err)
		}
	}
	return qs, nil
}

// FindTraces returns summaries of the traces that match s, newest first. An
// invalid search is a [*BadRequestError].
func (s *Service) FindTraces(ctx context.Context, search *Search) (_ []storage.TraceSummary, err error) {
	defer func(start time.Time) { s.finish(ctx, "find_traces", start, err) }(time.Now())
	return s.findTraces(ctx, search)
}

func (s *Service) findTraces(ctx context.Context, search *Search) ([]storage.TraceSummary, error) {
	qs, err := search.expand()
	if err != nil {
		return nil, err
	}
	if len(qs) == 1 {
		return s.reader.FindTraces(ctx, qs[0])
	}
	// Each alternative returns its newest Limit traces, so the newest Limit
	// of their union are among them.
	var all []storage.TraceSummary
	seen := map[model.TraceID]struct{}{}
	for _, q := range qs {
		sums, err := s.reader.FindTraces(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, sum := range sums {
			if _, dup := seen[sum.TraceID]; !dup {
				seen[sum.TraceID] = struct{}{}
				all = append(all, sum)
			}
		}
	}
	slices.SortStableFunc(all, newestFirst)
	if limit := search.EffectiveLimit(); len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// newestFirst orders summaries by start time, latest first, then by trace
// ID so that ties come out the same on every call.
func newestFirst(a, b storage.TraceSummary) int {
	if c := cmp.Compare(b.StartUnixNano, a.StartUnixNano); c != 0 {
		return c
	}
	return bytes.Compare(a.TraceID[:], b.TraceID[:])
}

// FindTracesFull is FindTraces followed by fetching every trace found, in
// the same order. Traces that vanish between the search and the fetch
// (retention) are left out. When the backend implements
// [storage.FullTraceFinder], each trace is fetched once, by the search
// itself, rather than once to summarise it and again here.
func (s *Service) FindTracesFull(ctx context.Context, search *Search) (_ []*model.Trace, err error) {
	defer func(start time.Time) { s.finish(ctx, "find_traces_full", start, err) }(time.Now())
	if f, ok := s.reader.(storage.FullTraceFinder); ok {
		return s.findTracesFull(ctx, f, search)
	}
	sums, err := s.findTraces(ctx, search)
	if err != nil {
		return nil, err
	}
	ids := make([]model.TraceID, len(sums))
	hints := make([]storage.TimeRange, len(sums))
	for i, sum := range sums {
		ids[i] = sum.TraceID
		hints[i] = storage.TimeRange{Start: sum.StartUnixNano, End: sum.EndUnixNano}
	}
	traces, err := s.fetchAll(ctx, ids, hints)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(traces, func(t *model.Trace) bool { return t == nil }), nil
}

// findTracesFull is FindTracesFull on a backend that returns the traces
// with their summaries. Alternatives are merged as in findTraces.
func (s *Service) findTracesFull(ctx context.Context, f storage.FullTraceFinder, search *Search) ([]*model.Trace, error) {
	qs, err := search.expand()
	if err != nil {
		return nil, err
	}
	type found struct {
		sum   storage.TraceSummary
		trace *model.Trace
	}
	var all []found
	seen := map[model.TraceID]struct{}{}
	for _, q := range qs {
		traces, sums, err := f.FindTracesFull(ctx, q)
		if err != nil {
			return nil, err
		}
		if len(traces) != len(sums) {
			return nil, fmt.Errorf("query: backend returned %d traces for %d summaries", len(traces), len(sums))
		}
		for i, sum := range sums {
			if _, dup := seen[sum.TraceID]; dup || traces[i] == nil || len(traces[i].Spans) == 0 {
				continue
			}
			seen[sum.TraceID] = struct{}{}
			all = append(all, found{sum, traces[i]})
		}
	}
	if len(qs) > 1 {
		slices.SortStableFunc(all, func(a, b found) int { return newestFirst(a.sum, b.sum) })
	}
	if limit := search.EffectiveLimit(); len(all) > limit {
		all = all[:limit]
	}
	out := make([]*model.Trace, len(all))
	for i, f := range all {
		f.trace.Spans = dedupe(f.trace.Spans)
		out[i] = f.trace
	}
	return out, nil
}
