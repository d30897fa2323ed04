package jaeger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// errNoTraces is api_v3's answer to a search that matches nothing: Jaeger
// replies 404 rather than an empty result.
var errNoTraces = fmt.Errorf("no traces found: %w", query.ErrNotFound)

// parseRFC3339 parses an optional RFC 3339 time into Unix nanoseconds.
func parseRFC3339(q url.Values, names ...string) (uint64, bool, error) {
	s, name := param(q, names...)
	if s == "" {
		return 0, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false, query.BadRequestf("malformed parameter %s: %w", name, err)
	}
	if t.UnixNano() < 0 {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: before 1970", name, s)
	}
	return uint64(t.UnixNano()), true, nil
}

type v3Services struct {
	Services []string `json:"services"`
}

// v3Services answers GET /api/v3/services.
func (a *API) v3Services(r *http.Request) (any, error) {
	svcs, err := a.q.Services(r.Context())
	if err != nil {
		return nil, err
	}
	if svcs == nil {
		svcs = []string{}
	}
	return v3Services{Services: svcs}, nil
}

type v3Operations struct {
	Operations []v1Operation `json:"operations"`
}

// v3Operations answers GET /api/v3/operations?service=&spanKind=.
func (a *API) v3Operations(r *http.Request) (any, error) {
	q := r.URL.Query()
	kind, _ := param(q, "spanKind", "span_kind")
	oq, err := parseSpanKind(kind)
	if err != nil {
		return nil, err
	}
	oq.Service = q.Get("service")
	ops, err := a.q.Operations(r.Context(), oq)
	if err != nil {
		return nil, err
	}
	return v3Operations{Operations: toOperations(ops)}, nil
}

// v3Trace answers GET /api/v3/traces/{traceID}; startTime and endTime
// (RFC 3339) tell the backend where to look.
func (a *API) v3Trace(r *http.Request) (any, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var hint storage.TimeRange
	if hint.Start, _, err = parseRFC3339(q, "startTime", "start_time"); err != nil {
		return nil, err
	}
	if hint.End, _, err = parseRFC3339(q, "endTime", "end_time"); err != nil {
		return nil, err
	}
	t, err := a.q.Trace(r.Context(), id, hint)
	if err != nil {
		return nil, err
	}
	return otlpResult([]*model.Trace{t})
}

// v3FindTraces answers GET /api/v3/traces?query.…: every matching trace in
// one OTLP document, or 404 when none matches.
func (a *API) v3FindTraces(r *http.Request) (any, error) {
	search, err := parseV3Search(r.URL.Query())
	if err != nil {
		return nil, err
	}
	traces, err := a.q.FindTracesFull(r.Context(), search)
	if err != nil {
		return nil, err
	}
	if len(traces) == 0 {
		return nil, errNoTraces
	}
	return otlpResult(traces)
}

// parseV3Search parses api_v3's search parameters. Both bounds of the
// start time are required, as in Jaeger.
func parseV3Search(q url.Values) (*query.Search, error) {
	var b searchBuilder
	svc, _ := param(q, "query.serviceName", "query.service_name")
	b.equal(storage.FieldService, svc)
	op, _ := param(q, "query.operationName", "query.operation_name")
	b.equal(storage.FieldName, op)
	if s := q.Get("query.attributes"); s != "" {
		tags, err := parseTagMap(s, "query.attributes")
		if err != nil {
			return nil, err
		}
		b.tags(tags)
	}
	start, hasStart, err := parseRFC3339(q, "query.startTimeMin", "query.start_time_min")
	if err != nil {
		return nil, err
	}
	end, hasEnd, err := parseRFC3339(q, "query.startTimeMax", "query.start_time_max")
	if err != nil {
		return nil, err
	}
	if !hasStart || !hasEnd {
		return nil, query.BadRequestf("query.startTimeMin and query.startTimeMax are required")
	}
	if end < start {
		return nil, query.BadRequestf("query.startTimeMax is before query.startTimeMin")
	}
	b.s.Range = storage.TimeRange{Start: start, End: end}
	minD, hasMin, err := parseDuration(q, "query.durationMin", "query.duration_min")
	if err != nil {
		return nil, err
	}
	maxD, hasMax, err := parseDuration(q, "query.durationMax", "query.duration_max")
	if err != nil {
		return nil, err
	}
	if err := b.durations(minD, hasMin, maxD, hasMax); err != nil {
		return nil, err
	}
	if s, name := param(q, "query.searchDepth", "query.search_depth", "query.num_traces"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, query.BadRequestf("malformed parameter %s=%q: not a non-negative integer", name, s)
		}
		b.s.Limit = n
	}
	return &b.s, nil
}

// otlpResult renders traces as api_v3's {"result": <OTLP JSON>}. pdata's
// marshaller writes enums as integers and IDs as hex, as Jaeger does.
func otlpResult(traces []*model.Trace) (any, error) {
	var spans []*model.Span
	for _, t := range traces {
		spans = append(spans, t.Spans...)
	}
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(otlp.ToTraces(spans))
	if err != nil {
		return nil, errors.Join(errors.New("encode OTLP"), err)
	}
	return v3Result{Result: json.RawMessage(body)}, nil
}

type v3Result struct {
	Result json.RawMessage `json:"result"`
}

// v3Summary is one element of GET /api/v3/trace-summaries. Nanosecond
// times are decimal strings, as proto3 JSON writes 64-bit integers, so
// that JavaScript clients do not lose precision.
type v3Summary struct {
	TraceID              string             `json:"traceId"`
	RootServiceName      string             `json:"rootServiceName"`
	RootOperationName    string             `json:"rootOperationName"`
	MinStartTimeUnixNano string             `json:"minStartTimeUnixNano"`
	MaxEndTimeUnixNano   string             `json:"maxEndTimeUnixNano"`
	SpanCount            int                `json:"spanCount"`
	ErrorSpanCount       int                `json:"errorSpanCount"`
	Services             []v3ServiceSummary `json:"services"`
}

type v3ServiceSummary struct {
	Name           string `json:"name"`
	SpanCount      int    `json:"spanCount"`
	ErrorSpanCount int    `json:"errorSpanCount"`
}

type v3Summaries struct {
	Summaries []v3Summary `json:"summaries"`
}

// v3TraceSummaries answers GET /api/v3/trace-summaries with the same
// parameters as the search; no match is an empty list, not 404.
func (a *API) v3TraceSummaries(r *http.Request) (any, error) {
	search, err := parseV3Search(r.URL.Query())
	if err != nil {
		return nil, err
	}
	sums, err := a.q.FindTraces(r.Context(), search)
	if err != nil {
		return nil, err
	}
	out := v3Summaries{Summaries: make([]v3Summary, len(sums))}
	for i, s := range sums {
		vs := v3Summary{
			TraceID:              s.TraceID.String(),
			RootServiceName:      s.RootService,
			RootOperationName:    s.RootName,
			MinStartTimeUnixNano: strconv.FormatUint(s.StartUnixNano, 10),
			MaxEndTimeUnixNano:   strconv.FormatUint(s.EndUnixNano, 10),
			SpanCount:            s.SpanCount,
			ErrorSpanCount:       s.ErrorCount,
			Services:             make([]v3ServiceSummary, len(s.Services)),
		}
		for j, svc := range s.Services {
			vs.Services[j] = v3ServiceSummary{Name: svc.Name, SpanCount: svc.SpanCount, ErrorSpanCount: svc.ErrorCount}
		}
		out.Summaries[i] = vs
	}
	return out, nil
}
