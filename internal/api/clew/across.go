package clew

import (
	"net/http"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
)

// sampleInfo says what an across-trace answer was computed from: the
// newest TracesRead traces of the window. Complete is false when the
// sample limit was reached, so that older parts of the window are missing
// or under-counted. An answer computed from the backend's operation
// statistics reads no traces: TracesRead and SampleLimit are 0 and
// Complete is true.
type sampleInfo struct {
	StartUnixNano uint64 `json:"startUnixNano"`
	EndUnixNano   uint64 `json:"endUnixNano"`
	TracesRead    int    `json:"tracesRead"`
	SampleLimit   int    `json:"sampleLimit"`
	Complete      bool   `json:"complete"`
}

// serviceGraphResult is the body of GET /api/clew/servicegraph.
type serviceGraphResult struct {
	sampleInfo
	Edges []analysis.GraphEdge `json:"edges"`
}

// redResult is the body of GET /api/clew/red.
type redResult struct {
	sampleInfo
	Service   string               `json:"service"`
	Operation string               `json:"operation,omitempty"`
	StepNs    int64                `json:"stepNs"`
	Buckets   []analysis.REDBucket `json:"buckets"`
}

// sample fetches the newest traces with a span matching conds in [start, end].
func (a *API) sample(r *http.Request, start, end time.Time, conds []storage.Condition) ([]*model.Trace, sampleInfo, error) {
	tr := storage.TimeRange{Start: uint64(start.UnixNano()), End: uint64(end.UnixNano())}
	traces, err := a.q.FindTracesFull(r.Context(), &query.Search{Query: storage.Query{Range: tr, Conditions: conds, Limit: a.sampleTraces}})
	info := sampleInfo{StartUnixNano: tr.Start, EndUnixNano: tr.End, TracesRead: len(traces), SampleLimit: a.sampleTraces,
		Complete: len(traces) < a.sampleTraces}
	return traces, info, err
}

// serviceGraph serves GET /api/clew/servicegraph?start=&end=&lookback=.
func (a *API) serviceGraph(r *http.Request) (any, error) {
	start, end, err := window(r.URL.Query(), a.q.Now())
	if err != nil {
		return nil, err
	}
	if a.q.HasOperationStats() {
		return a.serviceGraphFromStats(r, start, end)
	}
	traces, info, err := a.sample(r, start, end, nil)
	if err != nil {
		return nil, err
	}
	g := analysis.NewGraphBuilder(storage.TimeRange{Start: info.StartUnixNano, End: info.EndUnixNano})
	for _, t := range traces {
		g.Add(t.Spans)
	}
	return serviceGraphResult{sampleInfo: info, Edges: g.Edges()}, nil
}

// serviceGraphFromStats computes the service graph from the backend's
// edge statistics instead of a sample: every child span of the window
// counts. The window's start is rounded down to a whole
// [storage.StatsResolution], the resolution of the statistics.
func (a *API) serviceGraphFromStats(r *http.Request, start, end time.Time) (any, error) {
	start = start.Truncate(storage.StatsResolution)
	tr := storage.TimeRange{Start: uint64(start.UnixNano()), End: uint64(end.UnixNano())}
	stats, err := a.q.EdgeStats(r.Context(), storage.StatsQuery{Range: tr})
	if err != nil {
		return nil, err
	}
	edges := make([]analysis.GraphEdge, 0, len(stats))
	for i := range stats {
		es := &stats[i]
		var calls, errs uint64
		var lat sketch.Sketch
		for j := range es.Buckets {
			b := &es.Buckets[j]
			calls += b.Calls
			errs += b.Errors
			lat.Merge(&b.Latency)
		}
		edges = append(edges, analysis.GraphEdge{Parent: es.Parent, Child: es.Child, CallCount: int(calls), ErrorCount: int(errs),
			P50Ns: int64(lat.Quantile(0.50)), P99Ns: int64(lat.Quantile(0.99))})
	}
	info := sampleInfo{StartUnixNano: tr.Start, EndUnixNano: tr.End, Complete: true}
	return serviceGraphResult{sampleInfo: info, Edges: edges}, nil
}

// red serves GET /api/clew/red?service=&operation=&spanKind=&start=&end=&step=.
func (a *API) red(r *http.Request) (any, error) {
	q := r.URL.Query()
	svc, op := q.Get("service"), q.Get("operation")
	if svc == "" {
		return nil, query.BadRequestf("parameter service is required")
	}
	var kind model.SpanKind
	hasKind := q.Get("spanKind") != ""
	if hasKind {
		k, ok := model.ParseSpanKind(q.Get("spanKind"))
		if !ok {
			return nil, query.BadRequestf("malformed parameter spanKind=%q", q.Get("spanKind"))
		}
		kind = k
	}
	start, end, err := window(q, a.q.Now())
	if err != nil {
		return nil, err
	}
	step, err := parseDuration(q, "step", defaultStep(end.Sub(start)))
	if err != nil {
		return nil, err
	}
	series, err := analysis.NewRED(start, end, step)
	if err != nil {
		return nil, query.BadRequest(err)
	}
	if a.q.HasOperationStats() && step%storage.StatsResolution == 0 {
		return a.redFromStats(r, svc, op, kind, hasKind, start, end, step)
	}
	conds := []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue(svc)}}
	if op != "" {
		conds = append(conds, storage.Condition{Field: storage.FieldName, Op: storage.OpEqual, Value: model.StringValue(op)})
	}
	traces, info, err := a.sample(r, start, end, conds)
	if err != nil {
		return nil, err
	}
	for _, t := range traces {
		for _, s := range t.Spans {
			if s.Service() == svc && (op == "" || s.Name == op) && (!hasKind || s.Kind == kind) {
				series.Add(s)
			}
		}
	}
	return redResult{sampleInfo: info, Service: svc, Operation: op, StepNs: int64(step), Buckets: series.Buckets()}, nil
}

// redFromStats computes the RED series from the backend's operation
// statistics instead of a sample: every span of the window counts. The
// window's start is rounded down to a whole [storage.StatsResolution] so
// that the buckets are exact.
func (a *API) redFromStats(r *http.Request, svc, op string, kind model.SpanKind, hasKind bool, start, end time.Time, step time.Duration) (any, error) {
	start = start.Truncate(storage.StatsResolution)
	n := int((end.Sub(start) + step - 1) / step)
	if n > analysis.MaxREDBuckets {
		return nil, query.BadRequestf("window of %s in steps of %s is %d buckets, more than %d", end.Sub(start), step, n, analysis.MaxREDBuckets)
	}
	tr := storage.TimeRange{Start: uint64(start.UnixNano()), End: uint64(end.UnixNano()) - 1}
	stats, err := a.q.OperationStats(r.Context(), storage.StatsQuery{Service: svc, Operation: op, Range: tr, Step: step})
	if err != nil {
		return nil, err
	}
	type acc struct {
		calls, errors uint64
		latency       sketch.Sketch
	}
	accs := make([]acc, n)
	for i := range stats {
		os := &stats[i]
		if hasKind && os.Kind != kind {
			continue
		}
		for j := range os.Buckets {
			b := &os.Buckets[j]
			k := int((b.StartUnixNano - tr.Start) / uint64(step))
			if k < 0 || k >= n {
				continue
			}
			accs[k].calls += b.Calls
			accs[k].errors += b.Errors
			accs[k].latency.Merge(&b.Latency)
		}
	}
	buckets := make([]analysis.REDBucket, n)
	for i := range accs {
		c := &accs[i]
		b := analysis.REDBucket{StartUnixNano: tr.Start + uint64(i)*uint64(step), Count: int(c.calls), ErrorCount: int(c.errors)}
		b.RatePerSecond = float64(c.calls) / step.Seconds()
		if c.calls > 0 {
			b.ErrorRatio = float64(c.errors) / float64(c.calls)
			b.P50Ns = int64(c.latency.Quantile(0.50))
			b.P95Ns = int64(c.latency.Quantile(0.95))
			b.P99Ns = int64(c.latency.Quantile(0.99))
		}
		buckets[i] = b
	}
	info := sampleInfo{StartUnixNano: tr.Start, EndUnixNano: uint64(end.UnixNano()), Complete: true}
	return redResult{sampleInfo: info, Service: svc, Operation: op, StepNs: int64(step), Buckets: buckets}, nil
}

// defaultStep splits a window into about 30 buckets of a round length.
func defaultStep(w time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute,
		5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if w/s <= 30 {
			return s
		}
	}
	return 24 * time.Hour
}
