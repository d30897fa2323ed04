package tempo

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/engine"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

const (
	// defaultSpansPerSpanset is Tempo's default spss.
	defaultSpansPerSpanset = 3
	// noRootService is what Tempo reports as the root service of a trace
	// whose root span has not arrived.
	noRootService = "<root span not yet received>"
)

// searchResponse is Tempo's SearchResponse.
type searchResponse struct {
	Traces  []traceSearchMetadata `json:"traces"`
	Metrics searchMetrics         `json:"metrics"`
	// Partial is Clew's: the engine reached its candidate bound before
	// the limit, so older matching traces may exist.
	Partial bool `json:"partial,omitempty"`
}

// traceSearchMetadata is one trace of a search.
type traceSearchMetadata struct {
	TraceID           string                  `json:"traceID"`
	RootServiceName   string                  `json:"rootServiceName"`
	RootTraceName     string                  `json:"rootTraceName,omitempty"`
	StartTimeUnixNano string                  `json:"startTimeUnixNano"`
	DurationMs        uint32                  `json:"durationMs,omitempty"`
	SpanSet           *spanSet                `json:"spanSet,omitempty"`
	SpanSets          []spanSet               `json:"spanSets,omitempty"`
	ServiceStats      map[string]serviceStats `json:"serviceStats,omitempty"`
}

// spanSet is a matched spanset: its first spans (spss of them) and how
// many matched.
type spanSet struct {
	Spans      []searchSpan `json:"spans"`
	Matched    int          `json:"matched"`
	Attributes []keyValue   `json:"attributes,omitempty"`
}

type searchSpan struct {
	SpanID            string     `json:"spanID"`
	Name              string     `json:"name"`
	StartTimeUnixNano string     `json:"startTimeUnixNano"`
	DurationNanos     string     `json:"durationNanos"`
	Attributes        []keyValue `json:"attributes,omitempty"`
}

type serviceStats struct {
	SpanCount  int `json:"spanCount"`
	ErrorCount int `json:"errorCount,omitempty"`
}

// searchMetrics is Tempo's SearchMetrics. Clew has no blocks or jobs in
// Tempo's sense: a job is one storage search.
type searchMetrics struct {
	InspectedTraces int    `json:"inspectedTraces"`
	InspectedBytes  string `json:"inspectedBytes"`
	InspectedSpans  string `json:"inspectedSpans"`
	TotalBlocks     int    `json:"totalBlocks"`
	CompletedJobs   int    `json:"completedJobs"`
	TotalJobs       int    `json:"totalJobs"`
}

func metricsOf(st engine.Stats) searchMetrics {
	return searchMetrics{
		InspectedTraces: st.InspectedTraces,
		InspectedBytes:  u64(uint64(st.InspectedBytes)),
		InspectedSpans:  u64(uint64(st.InspectedSpans)),
		CompletedJobs:   st.StorageQueries,
		TotalJobs:       st.StorageQueries,
	}
}

// search answers GET /api/search: a TraceQL search when q is given,
// Tempo's older tag search (tags=, minDuration=, maxDuration=) otherwise.
// start and end are Unix seconds.
func (a *API) search(r *http.Request) (response, error) {
	vals := r.URL.Query()
	limit, err := parseCount(vals, "limit", engine.DefaultLimit)
	if err != nil {
		return response{}, err
	}
	spss, err := parseCount(vals, "spss", defaultSpansPerSpanset)
	if err != nil {
		return response{}, err
	}
	rng, err := a.searchRange(vals)
	if err != nil {
		return response{}, err
	}
	q := vals.Get("q")
	if q == "" {
		return a.tagSearch(r, vals, rng, limit)
	}
	res, err := a.eng.Search(r.Context(), engine.SearchRequest{Query: q, Range: rng, Limit: limit})
	if err != nil {
		return response{}, err
	}
	fields := outputFields(res.Query)
	out := searchResponse{Traces: make([]traceSearchMetadata, 0, len(res.Traces)), Metrics: metricsOf(res.Stats), Partial: res.Partial}
	for _, tr := range res.Traces {
		md := metadata(tr.Summary)
		for _, ss := range tr.Spansets {
			md.SpanSets = append(md.SpanSets, renderSpanset(res.Evaluator, tr.Trace, ss, fields, spss))
		}
		if len(md.SpanSets) > 0 {
			md.SpanSet = &md.SpanSets[0]
		}
		out.Traces = append(out.Traces, md)
	}
	return jsonResponse(out), nil
}

// searchRange reads start and end (Unix seconds); end defaults to now when
// only start is given.
func (a *API) searchRange(vals url.Values) (storage.TimeRange, error) {
	start, hasStart, err := parseUnixSeconds(vals, "start")
	if err != nil {
		return storage.TimeRange{}, err
	}
	end, hasEnd, err := parseUnixSeconds(vals, "end")
	if err != nil {
		return storage.TimeRange{}, err
	}
	if hasStart && !hasEnd {
		end = uint64(a.q.Now().UnixNano())
	}
	if hasEnd {
		// end names a whole second: include spans that start within it.
		end += 999_999_999
	}
	if end != 0 && end < start {
		return storage.TimeRange{}, query.BadRequestf("end is before start")
	}
	return storage.TimeRange{Start: start, End: end}, nil
}

// metadata renders a trace summary.
func metadata(s storage.TraceSummary) traceSearchMetadata {
	md := traceSearchMetadata{
		TraceID:           s.TraceID.String(),
		RootServiceName:   s.RootService,
		RootTraceName:     s.RootName,
		StartTimeUnixNano: u64(s.StartUnixNano),
		DurationMs:        uint32(min(s.DurationNano()/1e6, 1<<32-1)),
		ServiceStats:      map[string]serviceStats{},
	}
	if !s.HasRoot {
		md.RootServiceName, md.RootTraceName = noRootService, ""
	}
	for _, svc := range s.Services {
		md.ServiceStats[svc.Name] = serviceStats{SpanCount: svc.SpanCount, ErrorCount: svc.ErrorCount}
	}
	return md
}

// outputFields lists the fields returned with each span: the attributes
// the query's filters test and the fields it select()s, each once.
func outputFields(q *traceql.Query) []traceql.FieldExpr {
	var out []traceql.FieldExpr
	seen := map[string]bool{"resource.service.name": true}
	add := func(e traceql.FieldExpr) {
		if s := e.String(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	traceql.Inspect(q, func(n traceql.Node) bool {
		switch n := n.(type) {
		case *traceql.SpansetFilter:
			if n.Expr != nil {
				traceql.Inspect(n.Expr, func(n traceql.Node) bool {
					if a, ok := n.(*traceql.Attribute); ok && !a.Parent && a.Scope != traceql.ScopeEvent && a.Scope != traceql.ScopeLink {
						add(a)
					}
					return true
				})
			}
			return false
		case *traceql.Select:
			for _, e := range n.Exprs {
				add(e)
			}
		}
		return true
	})
	return out
}

// fieldKey names a returned field as Tempo does: an attribute by its name
// without scope, an intrinsic by its spelling.
func fieldKey(e traceql.FieldExpr) string {
	if a, ok := e.(*traceql.Attribute); ok {
		return a.Name
	}
	return e.String()
}

// renderSpanset renders the first spss spans of a spanset with the
// service name and the output fields they have.
func renderSpanset(ev *eval.Evaluator, t *eval.Trace, ss eval.Spanset, fields []traceql.FieldExpr, spss int) spanSet {
	out := spanSet{Matched: len(ss.Spans), Spans: make([]searchSpan, 0, min(spss, len(ss.Spans)))}
	for _, s := range ss.Spans[:min(spss, len(ss.Spans))] {
		sp := searchSpan{
			SpanID:            s.SpanID.String(),
			Name:              s.Name,
			StartTimeUnixNano: u64(s.StartUnixNano),
			DurationNanos:     u64(s.Duration()),
		}
		if svc := s.Service(); svc != "" {
			sp.Attributes = append(sp.Attributes, keyValue{Key: "service.name", Value: stringValue(svc)})
		}
		for _, f := range fields {
			if v := ev.Value(t, f, s); !v.IsNil() {
				sp.Attributes = append(sp.Attributes, keyValue{Key: fieldKey(f), Value: fromTraceQL(v)})
			}
		}
		out.Spans = append(out.Spans, sp)
	}
	for _, attr := range ss.Attributes {
		out.Attributes = append(out.Attributes, keyValue{Key: attr.Name, Value: fromTraceQL(attr.Value)})
	}
	return out
}

// tagSearch answers Tempo's search without q: tags= (logfmt key=value
// pairs compared as strings, as Jaeger's tags are), minDuration= and
// maxDuration= on the same span. Traces come without spansets.
func (a *API) tagSearch(r *http.Request, vals url.Values, rng storage.TimeRange, limit int) (response, error) {
	s := &query.Search{Query: storage.Query{Range: rng, Limit: limit}}
	if t := vals.Get("tags"); t != "" {
		tags, err := parseLogfmt(t)
		if err != nil {
			return response{}, err
		}
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			alts := query.TagFilter(k, tags[k])
			if len(alts) == 1 {
				s.Conditions = append(s.Conditions, alts[0])
			} else {
				s.AnyOf = append(s.AnyOf, alts)
			}
		}
	}
	for _, d := range []struct {
		name string
		op   storage.Op
	}{{"minDuration", storage.OpGreaterEqual}, {"maxDuration", storage.OpLessEqual}} {
		if v := vals.Get(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < 0 {
				return response{}, query.BadRequestf("malformed parameter %s=%q", d.name, v)
			}
			s.Conditions = append(s.Conditions, storage.Condition{Field: storage.FieldDuration, Op: d.op, Value: model.IntValue(int64(dur))})
		}
	}
	sums, err := a.q.FindTraces(r.Context(), s)
	if err != nil {
		return response{}, err
	}
	out := searchResponse{Traces: make([]traceSearchMetadata, 0, len(sums)), Metrics: searchMetrics{InspectedBytes: "0", InspectedSpans: "0", CompletedJobs: 1, TotalJobs: 1}}
	for _, sum := range sums {
		out.Traces = append(out.Traces, metadata(sum))
	}
	return jsonResponse(out), nil
}
