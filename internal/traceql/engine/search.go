package engine

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

// SearchRequest is a TraceQL search.
type SearchRequest struct {
	Query string
	// Range bounds the spans the query sees (see [eval.Evaluator.Spansets]);
	// zero means all time.
	Range storage.TimeRange
	// Limit is the number of traces wanted; 0 means [DefaultLimit].
	Limit int
}

// SearchResult is the answer to a search.
type SearchResult struct {
	// Query is the parsed query; Evaluator evaluates its fields on the
	// returned spans (for select()).
	Query     *traceql.Query
	Evaluator *eval.Evaluator
	// Traces are the matching traces, newest first (by start time, then
	// trace ID), at most the limit.
	Traces []TraceResult
	// Partial is set when the candidate bound was reached before the
	// limit was met: older matching traces may exist.
	Partial bool
	Stats   Stats
}

// TraceResult is one matching trace.
type TraceResult struct {
	Trace    *eval.Trace
	Summary  storage.TraceSummary
	Spansets []eval.Spanset
}

// Search runs a TraceQL search. Candidate traces come whole from the
// plan's storage searches, newest first, in rounds of four times the limit
// (growing fourfold) until the limit is met or the candidate bound is
// reached; each is evaluated exactly, once.
func (e *Engine) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	q, ev, err := Prepare(req.Query, false)
	if err != nil {
		return nil, err
	}
	if req.Limit < 0 || req.Limit > storage.MaxLimit {
		return nil, query.BadRequestf("limit %d out of range [0, %d]", req.Limit, storage.MaxLimit)
	}
	if !req.Range.IsZero() && req.Range.End != 0 && req.Range.End < req.Range.Start {
		return nil, query.BadRequestf("time range ends before it starts")
	}
	limit := cmp.Or(req.Limit, DefaultLimit)
	maxCand := e.opts.MaxCandidates
	if v, ok := q.Hint("most_recent"); ok && v.Bool() {
		maxCand = e.opts.MostRecentMaxCandidates
	}
	maxCand = max(maxCand, limit)
	plan := NewPlan(q)
	res := &SearchResult{Query: q, Evaluator: ev}
	seen := map[model.TraceID]bool{}
	var matches []TraceResult
	for cand := min(max(4*limit, 100), maxCand); ; cand = min(4*cand, maxCand) {
		found, cutoff, err := e.candidates(ctx, plan, req.Range, cand, &res.Stats)
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			if seen[c.trace.ID] {
				continue // evaluated in an earlier round
			}
			seen[c.trace.ID] = true
			res.Stats.inspect(c.trace)
			et := eval.NewTrace(c.trace)
			if sets := ev.Spansets(et, req.Range); len(sets) > 0 {
				matches = append(matches, TraceResult{Trace: et, Summary: c.sum, Spansets: sets})
			}
		}
		confirmed := len(matches)
		if cutoff > 0 {
			confirmed = 0
			for _, m := range matches {
				if m.Summary.StartUnixNano >= cutoff {
					confirmed++
				}
			}
		}
		if cutoff == 0 || confirmed >= limit {
			break
		}
		if cand >= maxCand {
			res.Partial = true
			break
		}
	}
	sortNewestFirst(matches, func(m TraceResult) (uint64, model.TraceID) { return m.Summary.StartUnixNano, m.Summary.TraceID })
	if len(matches) > limit {
		matches = matches[:limit]
	}
	res.Traces = matches
	return res, nil
}

// sortNewestFirst orders by start time, latest first, then trace ID.
func sortNewestFirst[T any](xs []T, key func(T) (uint64, model.TraceID)) {
	slices.SortStableFunc(xs, func(a, b T) int {
		sa, ida := key(a)
		sb, idb := key(b)
		if c := cmp.Compare(sb, sa); c != 0 {
			return c
		}
		return bytes.Compare(ida[:], idb[:])
	})
}
