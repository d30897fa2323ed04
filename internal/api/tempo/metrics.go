package tempo

import (
	"math"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/traceql/engine"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

const (
	// defaultMetricsRange is the window of a metrics query without start
	// or since.
	defaultMetricsRange = time.Hour
	// defaultPoints is how many steps a range query without step gets.
	defaultPoints = 100
)

// queryRangeResponse is Tempo's QueryRangeResponse.
type queryRangeResponse struct {
	Series  []timeSeries  `json:"series"`
	Metrics searchMetrics `json:"metrics"`
	Status  string        `json:"status"`
	Message string        `json:"message,omitempty"`
}

type timeSeries struct {
	Labels     []keyValue `json:"labels"`
	PromLabels string     `json:"promLabels"`
	Samples    []sample   `json:"samples"`
	Exemplars  []struct{} `json:"exemplars"`
}

type sample struct {
	TimestampMs string  `json:"timestampMs"`
	Value       float64 `json:"value"`
}

// queryInstantResponse is Tempo's QueryInstantResponse.
type queryInstantResponse struct {
	Series  []instantSeries `json:"series"`
	Metrics searchMetrics   `json:"metrics"`
	Status  string          `json:"status"`
	Message string          `json:"message,omitempty"`
}

type instantSeries struct {
	Labels     []keyValue `json:"labels"`
	PromLabels string     `json:"promLabels"`
	Value      float64    `json:"value"`
}

// metricsWindow reads start and end (RFC 3339 or Unix s/ms/µs/ns) or
// since (a duration back from now); the default is the last hour.
func (a *API) metricsWindow(vals url.Values) (start, end uint64, err error) {
	now := uint64(a.q.Now().UnixNano())
	end, hasEnd, err := parseTime(vals, "end")
	if err != nil {
		return 0, 0, err
	}
	if !hasEnd {
		end = now
	}
	start, hasStart, err := parseTime(vals, "start")
	if err != nil {
		return 0, 0, err
	}
	if s := vals.Get("since"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, 0, query.BadRequestf("malformed parameter since=%q", s)
		}
		start, end, hasStart = now-min(now, uint64(d)), now, true
	}
	if !hasStart {
		start = end - min(end, uint64(defaultMetricsRange))
	}
	if end <= start {
		return 0, 0, query.BadRequestf("end must be after start")
	}
	return start, end, nil
}

func status(partial bool) (string, string) {
	if partial {
		return "PARTIAL", "more traces matched than the engine fetches; values are computed from a bounded sample and may be too low"
	}
	return "COMPLETE", ""
}

// queryRange answers GET /api/metrics/query_range?q=&start=&end=&step=.
// The range is aligned to the step, as Prometheus does, so that sample
// timestamps are multiples of it.
func (a *API) queryRange(r *http.Request) (response, error) {
	vals := r.URL.Query()
	start, end, err := a.metricsWindow(vals)
	if err != nil {
		return response{}, err
	}
	step, hasStep, err := parseStep(vals)
	if err != nil {
		return response{}, err
	}
	if !hasStep {
		step = max(time.Duration(end-start)/defaultPoints, time.Second).Truncate(time.Second)
	}
	st := uint64(step)
	start -= start % st
	if rem := end % st; rem != 0 {
		end += st - rem
	}
	if (end-start)/st > eval.MaxBuckets {
		return response{}, query.BadRequestf("range/step gives more than %d points: raise the step", eval.MaxBuckets)
	}
	res, err := a.eng.QueryRange(r.Context(), engine.MetricsRequest{Query: vals.Get("q"), Start: start, End: end, Step: st})
	if err != nil {
		return response{}, err
	}
	out := queryRangeResponse{Series: make([]timeSeries, 0, len(res.Series)), Metrics: metricsOf(res.Stats)}
	out.Status, out.Message = status(res.Partial)
	for _, s := range res.Series {
		ts := timeSeries{Labels: labels(s), PromLabels: s.PromLabels(), Samples: []sample{}, Exemplars: []struct{}{}}
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			at := (res.Grid.Start + uint64(i)*res.Grid.Step) / 1e6
			ts.Samples = append(ts.Samples, sample{TimestampMs: u64(at), Value: v})
		}
		out.Series = append(out.Series, ts)
	}
	return jsonResponse(out), nil
}

// queryInstant answers GET /api/metrics/query?q=&start=&end=: one value
// per series over the whole window.
func (a *API) queryInstant(r *http.Request) (response, error) {
	vals := r.URL.Query()
	start, end, err := a.metricsWindow(vals)
	if err != nil {
		return response{}, err
	}
	res, err := a.eng.QueryRange(r.Context(), engine.MetricsRequest{Query: vals.Get("q"), Start: start, End: end, Step: end - start})
	if err != nil {
		return response{}, err
	}
	out := queryInstantResponse{Series: make([]instantSeries, 0, len(res.Series)), Metrics: metricsOf(res.Stats)}
	out.Status, out.Message = status(res.Partial)
	for _, s := range res.Series {
		if len(s.Values) == 0 || math.IsNaN(s.Values[0]) {
			continue
		}
		out.Series = append(out.Series, instantSeries{Labels: labels(s), PromLabels: s.PromLabels(), Value: s.Values[0]})
	}
	return jsonResponse(out), nil
}

func labels(s eval.Series) []keyValue {
	out := make([]keyValue, len(s.Labels))
	for i, l := range s.Labels {
		out[i] = keyValue{Key: l.Name, Value: fromTraceQL(l.Value)}
	}
	return out
}

// buildInfo is Tempo's /api/status/buildinfo.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// buildInfo answers GET /api/status/buildinfo with the Tempo version whose
// API Clew serves; the revision names Clew.
func (a *API) buildInfo(*http.Request) (response, error) {
	return jsonResponse(buildInfo{
		Version:   CompatibleVersion,
		Revision:  "clew-" + a.version,
		Branch:    "clew",
		BuildUser: "clew",
		GoVersion: runtime.Version(),
	}), nil
}
