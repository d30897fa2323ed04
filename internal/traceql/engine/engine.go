package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

// Source is what the engine reads: [*query.Service] is one.
type Source interface {
	// FindTracesFull returns the whole traces with a span matching the
	// search, newest first (by start time), at most its limit. The query
	// layer fetches each trace once when the backend can return traces
	// with its search results (storage.FullTraceFinder).
	FindTracesFull(ctx context.Context, s *query.Search) ([]*model.Trace, error)
}

// Defaults for the zero fields of [Options].
const (
	// DefaultMaxCandidates bounds the traces one search fetches and
	// evaluates. Candidates are searched newest first, four times the
	// limit at a time, until the limit is met or this bound is reached.
	DefaultMaxCandidates = 2_000
	// DefaultMostRecentMaxCandidates is the bound under
	// with(most_recent=true), which asks to look further.
	DefaultMostRecentMaxCandidates = 20_000
	// DefaultMetricsMaxTraces bounds the traces one metrics query fetches.
	DefaultMetricsMaxTraces = 20_000
	// DefaultLimit is the number of traces a search returns without one.
	DefaultLimit = 20
)

// Options configures an [Engine]. The zero value is usable.
type Options struct {
	Logger                  *slog.Logger
	MaxCandidates           int
	MostRecentMaxCandidates int
	MetricsMaxTraces        int
}

// Validate reports options New cannot work with.
func (o *Options) Validate() error {
	for name, v := range map[string]int{
		"max candidates": o.MaxCandidates, "most-recent max candidates": o.MostRecentMaxCandidates,
		"metrics max traces": o.MetricsMaxTraces,
	} {
		if v < 0 {
			return fmt.Errorf("%s %d is negative", name, v)
		}
	}
	return nil
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxCandidates == 0 {
		o.MaxCandidates = DefaultMaxCandidates
	}
	if o.MostRecentMaxCandidates == 0 {
		o.MostRecentMaxCandidates = max(DefaultMostRecentMaxCandidates, o.MaxCandidates)
	}
	if o.MetricsMaxTraces == 0 {
		o.MetricsMaxTraces = DefaultMetricsMaxTraces
	}
}

// Engine runs TraceQL searches and metrics queries over a [Source]. It is
// safe for concurrent use.
type Engine struct {
	src  Source
	opts Options
}

// New returns an engine reading from src.
func New(src Source, opts Options) (*Engine, error) {
	if src == nil {
		return nil, errors.New("traceql engine: nil source")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("traceql engine: %w", err)
	}
	opts.EnsureDefaults()
	return &Engine{src: src, opts: opts}, nil
}

// Stats describes the work a query did.
type Stats struct {
	// InspectedTraces and InspectedSpans count the traces fetched and
	// evaluated; InspectedBytes estimates their size in memory.
	InspectedTraces int
	InspectedSpans  int
	InspectedBytes  int64
	// StorageQueries counts the candidate searches sent to storage.
	StorageQueries int
}

// Prepare parses, validates and compiles a query for a search (metrics
// false) or a metrics query; errors are query.BadRequestError values.
func Prepare(src string, metrics bool) (*traceql.Query, *eval.Evaluator, error) {
	q, err := traceql.Parse(src)
	if err != nil {
		return nil, nil, query.BadRequest(err)
	}
	switch {
	case metrics && !q.IsMetrics():
		return nil, nil, query.BadRequestf("not a metrics query: add a metrics function such as | rate()")
	case !metrics && q.IsMetrics():
		return nil, nil, query.BadRequestf("a metrics query cannot be searched: use the metrics endpoints")
	}
	ev, err := eval.Compile(q)
	if err != nil {
		return nil, nil, query.BadRequest(err)
	}
	return q, ev, nil
}

// candidates runs the plan's searches with the given limit each and
// merges the traces they find, newest first, with their summaries.
// cutoff is the start time below which candidates may be missing (the
// oldest result of a search that hit the limit, the latest such); 0 when
// nothing was cut.
func (e *Engine) candidates(ctx context.Context, p *Plan, r storage.TimeRange, limit int, st *Stats) (found []candidate, cutoff uint64, err error) {
	seen := map[model.TraceID]bool{}
	for _, s := range p.Searches {
		st.StorageQueries++
		traces, err := e.src.FindTracesFull(ctx, s.search(r, limit))
		if err != nil {
			return nil, 0, err
		}
		for i, t := range traces {
			sum := storage.Summarize(t)
			if i == limit-1 {
				cutoff = max(cutoff, sum.StartUnixNano)
			}
			if !seen[t.ID] {
				seen[t.ID] = true
				found = append(found, candidate{trace: t, sum: sum})
			}
		}
	}
	sortNewestFirst(found, func(c candidate) (uint64, model.TraceID) { return c.sum.StartUnixNano, c.sum.TraceID })
	return found, cutoff, nil
}

// candidate is a trace found by a plan's search.
type candidate struct {
	trace *model.Trace
	sum   storage.TraceSummary
}

// inspect counts an evaluated trace in the stats.
func (st *Stats) inspect(t *model.Trace) {
	st.InspectedTraces++
	st.InspectedSpans += len(t.Spans)
	for _, s := range t.Spans {
		st.InspectedBytes += approxSize(s)
	}
}

// approxSize estimates the memory a span takes, for InspectedBytes.
func approxSize(s *model.Span) int64 {
	n := int64(160 + len(s.Name) + len(s.StatusMessage))
	for _, kv := range s.Attributes {
		n += int64(24 + len(kv.Key) + len(kv.Value.Str))
	}
	for _, ev := range s.Events {
		n += int64(40 + len(ev.Name))
		for _, kv := range ev.Attributes {
			n += int64(24 + len(kv.Key) + len(kv.Value.Str))
		}
	}
	return n
}
