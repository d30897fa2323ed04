package jaeger

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

const (
	// defaultSearchLimit is the number of traces a v1 search returns
	// without a limit parameter.
	defaultSearchLimit = 20
	// defaultSearchLookback is the window searched when neither start nor
	// lookback is given (Jaeger's default).
	defaultSearchLookback = 2 * 24 * time.Hour
	// defaultDependencyLookback is /api/dependencies' window without a
	// lookback parameter (Jaeger's default).
	defaultDependencyLookback = 24 * time.Hour
)

// services answers GET /api/services.
func (a *API) services(r *http.Request) (*v1Result, error) {
	svcs, err := a.q.Services(r.Context())
	if err != nil {
		return nil, err
	}
	return list(svcs), nil
}

// serviceOperations answers GET /api/services/{service}/operations with
// the service's span names.
func (a *API) serviceOperations(r *http.Request) (*v1Result, error) {
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: r.PathValue("service")})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, op.Name)
	}
	return list(slices.Compact(names)), nil // ops are sorted by name
}

// v1Operation is an element of GET /api/operations.
type v1Operation struct {
	Name     string `json:"name"`
	SpanKind string `json:"spanKind"`
}

// operations answers GET /api/operations?service=&spanKind=. Jaeger
// requires service; Clew lists every service's operations without it.
func (a *API) operations(r *http.Request) (*v1Result, error) {
	q := r.URL.Query()
	oq, err := parseSpanKind(q.Get("spanKind"))
	if err != nil {
		return nil, err
	}
	oq.Service = q.Get("service")
	ops, err := a.q.Operations(r.Context(), oq)
	if err != nil {
		return nil, err
	}
	return list(toOperations(ops)), nil
}

// toOperations renders operations once per name and kind (several
// services may share one), with no kind for unspecified.
func toOperations(ops []storage.Operation) []v1Operation {
	out := make([]v1Operation, 0, len(ops))
	for _, op := range ops {
		o := v1Operation{Name: op.Name}
		if op.Kind != model.KindUnspecified {
			o.SpanKind = op.Kind.String()
		}
		if n := len(out); n > 0 && out[n-1] == o {
			continue
		}
		out = append(out, o)
	}
	return out
}

// findTraces answers GET /api/traces: a multi-get when traceID is given,
// a search otherwise.
func (a *API) findTraces(r *http.Request) (*v1Result, error) {
	q := r.URL.Query()
	if ids := q["traceID"]; len(ids) > 0 {
		return a.multiGet(r, ids)
	}
	search, err := a.parseSearch(q)
	if err != nil {
		return nil, err
	}
	traces, err := a.q.FindTracesFull(r.Context(), search)
	if err != nil {
		return nil, err
	}
	out := make([]uiTrace, len(traces))
	for i, t := range traces {
		out[i] = toUITrace(t)
	}
	return &v1Result{data: out, total: len(out)}, nil
}

// parseSearch builds the search of GET /api/traces. Service, operation,
// every tag and the duration range must hold on one span; start and end
// (µs) bound that span's start time.
func (a *API) parseSearch(vals url.Values) (*query.Search, error) {
	var b searchBuilder
	b.equal(storage.FieldService, vals.Get("service"))
	b.equal(storage.FieldName, vals.Get("operation"))
	if s := vals.Get("tags"); s != "" {
		tags, err := parseTagMap(s, "tags")
		if err != nil {
			return nil, err
		}
		b.tags(tags)
	}
	for _, t := range vals["tag"] {
		k, v, ok := strings.Cut(t, ":")
		if !ok || k == "" {
			return nil, query.BadRequestf("malformed parameter tag=%q: want key:value", t)
		}
		b.tag(k, v)
	}
	minD, hasMin, err := parseDuration(vals, "minDuration")
	if err != nil {
		return nil, err
	}
	maxD, hasMax, err := parseDuration(vals, "maxDuration")
	if err != nil {
		return nil, err
	}
	if err := b.durations(minD, hasMin, maxD, hasMax); err != nil {
		return nil, err
	}
	limit, err := parseLimit(vals, "limit", defaultSearchLimit)
	if err != nil {
		return nil, err
	}
	b.s.Limit = limit

	end, hasEnd, err := parseMicros(vals, "end")
	if err != nil {
		return nil, err
	}
	if !hasEnd {
		end = uint64(a.q.Now().UnixNano())
	}
	start, hasStart, err := parseMicros(vals, "start")
	if err != nil {
		return nil, err
	}
	if !hasStart {
		lookback := defaultSearchLookback
		if s := vals.Get("lookback"); s != "" && s != "custom" {
			if lookback, err = parseLookback(s); err != nil {
				return nil, err
			}
		}
		start = end - min(end, uint64(lookback))
	}
	if end < start {
		return nil, query.BadRequestf("end %d is before start %d", end/1000, start/1000)
	}
	b.s.Range = storage.TimeRange{Start: start, End: end}
	return &b.s, nil
}

// multiGet answers GET /api/traces?traceID=a&traceID=b: the traces found,
// with a 404 entry in errors for each one that is not.
func (a *API) multiGet(r *http.Request, raw []string) (*v1Result, error) {
	ids := make([]model.TraceID, len(raw))
	for i, s := range raw {
		id, err := parseTraceID(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	found, missing, err := a.q.Traces(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]uiTrace, len(found))
	for i, t := range found {
		out[i] = toUITrace(t)
	}
	res := &v1Result{data: out, total: len(out)}
	for _, id := range missing {
		res.errors = append(res.errors, v1Error{Code: http.StatusNotFound, Msg: query.ErrNotFound.Error(), TraceID: id.String()})
	}
	return res, nil
}

// trace answers GET /api/traces/{traceID}; the optional start and end
// (µs) tell the backend where to look.
func (a *API) trace(r *http.Request) (*v1Result, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	vals := r.URL.Query()
	var hint storage.TimeRange
	if hint.Start, _, err = parseMicros(vals, "start"); err != nil {
		return nil, err
	}
	if hint.End, _, err = parseMicros(vals, "end"); err != nil {
		return nil, err
	}
	t, err := a.q.Trace(r.Context(), id, hint)
	if err != nil {
		return nil, err
	}
	return &v1Result{data: []uiTrace{toUITrace(t)}, total: 1}, nil
}

// v1Dependency is an element of GET /api/dependencies.
type v1Dependency struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount uint64 `json:"callCount"`
}

// dependencies answers GET /api/dependencies?endTs=&lookback= (both ms).
func (a *API) dependencies(r *http.Request) (*v1Result, error) {
	vals := r.URL.Query()
	end, hasEnd, err := parseMillis(vals, "endTs")
	if err != nil {
		return nil, err
	}
	if !hasEnd {
		end = uint64(a.q.Now().UnixNano())
	}
	lookback, hasLookback, err := parseMillis(vals, "lookback")
	if err != nil {
		return nil, err
	}
	if !hasLookback {
		lookback = uint64(defaultDependencyLookback)
	}
	deps, err := a.q.Dependencies(r.Context(), storage.TimeRange{Start: end - min(end, lookback), End: end})
	if err != nil {
		return nil, err
	}
	out := make([]v1Dependency, len(deps))
	for i, d := range deps {
		out[i] = v1Dependency{Parent: d.Parent, Child: d.Child, CallCount: d.CallCount}
	}
	return list(out), nil
}

// list wraps a slice as v1 data; a nil slice is sent as [], never null,
// because the UI iterates it.
func list[T any](items []T) *v1Result {
	if items == nil {
		items = []T{}
	}
	return &v1Result{data: items, total: len(items)}
}
