package zipkin

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

const (
	// defaultLookbackMillis is Zipkin's QUERY_LOOKBACK default, one day.
	defaultLookbackMillis = 86_400_000
	// defaultLimit is the number of traces /api/v2/traces returns without
	// a limit parameter.
	defaultLimit = 10
)

// services answers GET /api/v2/services.
func (a *API) services(r *http.Request) (any, error) {
	svcs, err := a.q.Services(r.Context())
	return nonNil(svcs), err
}

// spans answers GET /api/v2/spans?serviceName= with the span names of the
// service.
func (a *API) spans(r *http.Request) (any, error) {
	svc, err := required(r.URL.Query(), "serviceName")
	if err != nil {
		return nil, err
	}
	ops, err := a.q.Operations(r.Context(), storage.OperationQuery{Service: svc})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, op.Name)
	}
	return slices.Compact(names), nil // ops are sorted by name
}

// remoteServices answers GET /api/v2/remoteServices?serviceName= with the
// services that service called.
func (a *API) remoteServices(r *http.Request) (any, error) {
	svc, err := required(r.URL.Query(), "serviceName")
	if err != nil {
		return nil, err
	}
	peers, err := a.q.RemoteServices(r.Context(), svc, storage.TimeRange{})
	return nonNil(peers), err
}

// traces answers GET /api/v2/traces: the newest traces with a span that
// matches every given criterion, each as a list of spans.
func (a *API) traces(r *http.Request) (any, error) {
	search, err := a.parseSearch(r.URL.Query())
	if err != nil {
		return nil, err
	}
	traces, err := a.q.FindTracesFull(r.Context(), search)
	if err != nil {
		return nil, err
	}
	out := make([][]zSpan, len(traces))
	for i, t := range traces {
		out[i] = toZipkinTrace(t)
	}
	return out, nil
}

// parseSearch builds the search of /api/v2/traces. As in Zipkin, every
// criterion must hold on the same span.
func (a *API) parseSearch(q url.Values) (*query.Search, error) {
	s := &query.Search{}
	eq := func(f storage.Field, v string) {
		s.Conditions = append(s.Conditions, storage.Condition{Field: f, Op: storage.OpEqual, Value: model.StringValue(v)})
	}
	if v := q.Get("serviceName"); v != "" {
		eq(storage.FieldService, v)
	}
	// Old Zipkin UIs send spanName=all for "any".
	if v := q.Get("spanName"); v != "" && v != "all" {
		eq(storage.FieldName, v)
	}
	if v := q.Get("remoteServiceName"); v != "" {
		s.AnyOf = append(s.AnyOf, query.PeerServiceFilter(v))
	}
	if v := q.Get("annotationQuery"); v != "" {
		for _, alts := range parseAnnotationQuery(v) {
			if len(alts) == 1 {
				s.Conditions = append(s.Conditions, alts[0])
			} else {
				s.AnyOf = append(s.AnyOf, alts)
			}
		}
	}
	minD, hasMin, err := parseUint(q, "minDuration")
	if err != nil {
		return nil, err
	}
	maxD, hasMax, err := parseUint(q, "maxDuration")
	if err != nil {
		return nil, err
	}
	if hasMin && hasMax && maxD < minD {
		return nil, query.BadRequestf("maxDuration %d is less than minDuration %d", maxD, minD)
	}
	for _, d := range []struct {
		has bool
		us  uint64
		op  storage.Op
	}{{hasMin, minD, storage.OpGreaterEqual}, {hasMax, maxD, storage.OpLessEqual}} {
		if !d.has {
			continue
		}
		if d.us > math.MaxInt64/1000 {
			return nil, query.BadRequestf("duration %dµs out of range", d.us)
		}
		s.Conditions = append(s.Conditions, storage.Condition{Field: storage.FieldDuration, Op: d.op, Value: model.IntValue(int64(d.us * 1000))})
	}
	if s.Range, err = a.window(q); err != nil {
		return nil, err
	}
	limit, hasLimit, err := parseUint(q, "limit")
	if err != nil {
		return nil, err
	}
	if !hasLimit || limit == 0 {
		limit = defaultLimit
	}
	if limit > storage.MaxLimit {
		return nil, query.BadRequestf("limit %d exceeds %d", limit, storage.MaxLimit)
	}
	s.Limit = int(limit)
	return s, nil
}

// parseAnnotationQuery splits "error and http.method=GET" into its terms:
// key=value is a tag filter, a bare word a tag that must be present.
//
// NB: Zipkin also lets a bare word match an annotation's value; storage
// conditions cannot test event names, so only tags are matched.
func parseAnnotationQuery(s string) [][]storage.Condition {
	var out [][]storage.Condition
	for term := range strings.SplitSeq(s, " and ") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		if k, v, ok := strings.Cut(term, "="); ok {
			out = append(out, query.TagFilter(k, v))
		} else {
			out = append(out, query.TagExists(term))
		}
	}
	return out
}

// window returns [endTs-lookback, endTs] (both in ms; endTs defaults to
// now and lookback to one day) in nanoseconds.
func (a *API) window(q url.Values) (storage.TimeRange, error) {
	end, hasEnd, err := parseUint(q, "endTs")
	if err != nil {
		return storage.TimeRange{}, err
	}
	endNs := uint64(a.q.Now().UnixNano())
	if hasEnd {
		if end > math.MaxUint64/1_000_000 {
			return storage.TimeRange{}, query.BadRequestf("endTs %d out of range", end)
		}
		endNs = end * 1_000_000
	}
	lookback, hasLookback, err := parseUint(q, "lookback")
	if err != nil {
		return storage.TimeRange{}, err
	}
	if !hasLookback {
		lookback = defaultLookbackMillis
	}
	lookbackNs := uint64(math.MaxUint64)
	if lookback <= math.MaxUint64/1_000_000 {
		lookbackNs = lookback * 1_000_000
	}
	return storage.TimeRange{Start: endNs - min(endNs, lookbackNs), End: endNs}, nil
}

// trace answers GET /api/v2/trace/{traceId}.
func (a *API) trace(r *http.Request) (any, error) {
	raw := r.PathValue("traceId")
	id, err := parseTraceID(raw)
	if err != nil {
		return nil, err
	}
	t, err := a.q.Trace(r.Context(), id, storage.TimeRange{})
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", strings.ToLower(raw), err)
	}
	return toZipkinTrace(t), nil
}

// traceMany answers GET /api/v2/traceMany?traceIds=a,b with the traces
// found, leaving out the others.
func (a *API) traceMany(r *http.Request) (any, error) {
	raw, err := required(r.URL.Query(), "traceIds")
	if err != nil {
		return nil, err
	}
	var ids []model.TraceID
	for s := range strings.SplitSeq(raw, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := parseTraceID(s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, query.BadRequestf("traceIds parameter is empty")
	}
	found, _, err := a.q.Traces(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([][]zSpan, len(found))
	for i, t := range found {
		out[i] = toZipkinTrace(t)
	}
	return out, nil
}

// zDependency is an element of /api/v2/dependencies.
type zDependency struct {
	Parent     string `json:"parent"`
	Child      string `json:"child"`
	CallCount  uint64 `json:"callCount"`
	ErrorCount uint64 `json:"errorCount"`
}

// dependencies answers GET /api/v2/dependencies?endTs=&lookback= (ms).
func (a *API) dependencies(r *http.Request) (any, error) {
	win, err := a.window(r.URL.Query())
	if err != nil {
		return nil, err
	}
	deps, err := a.q.Dependencies(r.Context(), win)
	if err != nil {
		return nil, err
	}
	out := make([]zDependency, len(deps))
	for i, d := range deps {
		out[i] = zDependency{Parent: d.Parent, Child: d.Child, CallCount: d.CallCount, ErrorCount: d.ErrorCount}
	}
	return out, nil
}

// autocompleteKeys answers GET /api/v2/autocompleteKeys with the tag keys
// seen, which Zipkin Lens offers in its search bar.
func (a *API) autocompleteKeys(r *http.Request) (any, error) {
	names, err := a.q.AttributeNames(r.Context(), storage.AttributeQuery{Scope: storage.ScopeSpan})
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(names))
	for _, n := range names {
		keys = append(keys, n.Name)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// autocompleteValues answers GET /api/v2/autocompleteValues?key= with the
// values seen for the tag key.
func (a *API) autocompleteValues(r *http.Request) (any, error) {
	key, err := required(r.URL.Query(), "key")
	if err != nil {
		return nil, err
	}
	vals, err := a.q.AttributeValues(r.Context(), storage.AttributeQuery{Scope: storage.ScopeSpan, Name: key})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		out = append(out, v.AsString())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseTraceID accepts 1 to 32 hex digits in any case; 64-bit Zipkin IDs
// and IDs without leading zeros name the same trace as their padded form.
func parseTraceID(s string) (model.TraceID, error) {
	id, err := model.ParseTraceID(s)
	if err != nil {
		return id, query.BadRequest(err)
	}
	if id.IsZero() {
		return id, query.BadRequestf("trace id %q is all zero", s)
	}
	return id, nil
}

// parseUint parses an optional non-negative integer parameter.
func parseUint(q url.Values, name string) (uint64, bool, error) {
	s := q.Get(name)
	if s == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: not a non-negative integer", name, s)
	}
	return v, true, nil
}

// required returns a parameter that must be present.
func required(q url.Values, name string) (string, error) {
	v := q.Get(name)
	if v == "" {
		return "", query.BadRequestf("%s is required", name)
	}
	return v, nil
}

// nonNil turns a nil list into an empty one: clients iterate the answer.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
