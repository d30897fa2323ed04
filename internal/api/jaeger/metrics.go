package jaeger

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
)

// The Monitor tab's metrics (Jaeger's "SPM": /api/metrics/{calls,errors,
// latencies} and /api/metrics/minstep) answered from the backend's
// per-minute operation statistics, where Jaeger needs a Prometheus fed by
// the collector's span-metrics connector. Each point at time t summarises
// the spans that started in the ratePer window before t, as a Prometheus
// rate() or histogram_quantile() over that window would.
const (
	defaultMetricsLookback = time.Hour
	defaultMetricsStep     = 5 * time.Second
	defaultMetricsRatePer  = 10 * time.Minute
	// maxMetricsPoints bounds a series' length.
	maxMetricsPoints = 10_000
)

// minStep is the finest step the metrics have: the statistics' resolution.
// A smaller step is rounded up to it.
const minStep = storage.StatsResolution

// metricFamily is the response of /api/metrics/{type}: OpenMetrics'
// MetricFamily as Jaeger renders it in JSON.
type metricFamily struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Metrics []metric `json:"metrics"`
}

type metric struct {
	Labels       []label       `json:"labels"`
	MetricPoints []metricPoint `json:"metricPoints"`
}

type label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type metricPoint struct {
	GaugeValue gaugeValue `json:"gaugeValue"`
	Timestamp  string     `json:"timestamp"`
}

type gaugeValue struct {
	DoubleValue float64 `json:"doubleValue"`
}

// metricsQuery is a parsed /api/metrics/{type} request.
type metricsQuery struct {
	services         []string
	kinds            []model.SpanKind
	groupByOperation bool
	quantile         float64
	end              time.Time // the last point's time
	points           int
	step, ratePer    time.Duration
}

// errMetricsUnsupported answers the metrics routes on a backend without
// operation statistics.
var errMetricsUnsupported = errors.New("metrics need a storage backend that keeps operation statistics")

// metricsMinStep answers GET /api/metrics/minstep: the finest step, in
// milliseconds.
func (a *API) metricsMinStep(r *http.Request) (any, error) {
	return map[string]int64{"minStep": minStep.Milliseconds()}, nil
}

// metrics returns the handler of GET /api/metrics/{kind}.
func (a *API) metrics(kind string) v3Func {
	return func(r *http.Request) (any, error) {
		if !a.q.HasOperationStats() {
			return nil, errMetricsUnsupported
		}
		mq, err := parseMetricsQuery(r.URL.Query(), kind == "latencies", a.q.Now())
		if err != nil {
			return nil, err
		}
		series, err := a.metricSeries(r, mq)
		if err != nil {
			return nil, err
		}
		fam := metricFamily{Type: "GAUGE", Metrics: []metric{}}
		scope, group := "service", "grouped by service"
		if mq.groupByOperation {
			scope, group = "service_operation", "grouped by service and operation"
		}
		switch kind {
		case "calls":
			fam.Name, fam.Help = scope+"_call_rate", "calls/sec, "+group
		case "errors":
			fam.Name, fam.Help = scope+"_error_rate", "error rate, computed as a fraction of errors/sec over calls/sec, "+group
		default:
			fam.Name = scope + "_latencies"
			fam.Help = fmt.Sprintf("%g quantile latency, computed over %s, %s", mq.quantile, mq.ratePer, group)
		}
		for _, s := range series {
			m := metric{Labels: s.labels(), MetricPoints: []metricPoint{}}
			for i := range mq.points {
				t := mq.end.Add(-time.Duration(mq.points-1-i) * mq.step)
				calls, errs, lat := s.window(t.Add(-mq.ratePer), t)
				var v float64
				switch kind {
				case "calls":
					v = float64(calls) / mq.ratePer.Seconds()
				case "errors":
					if calls == 0 {
						continue
					}
					v = float64(errs) / float64(calls)
				default:
					if calls == 0 {
						continue
					}
					v = lat.Quantile(mq.quantile) / float64(time.Millisecond)
				}
				m.MetricPoints = append(m.MetricPoints, metricPoint{GaugeValue: gaugeValue{v}, Timestamp: t.UTC().Format(time.RFC3339)})
			}
			fam.Metrics = append(fam.Metrics, m)
		}
		return fam, nil
	}
}

// opSeries is one series' per-minute statistics, merged over span kinds
// (and operations when not grouped by operation).
type opSeries struct {
	service, operation string
	grouped            bool
	minutes            map[int64]*minuteStats // by Unix minute
}

type minuteStats struct {
	calls, errors uint64
	latency       sketch.Sketch
}

func (s *opSeries) labels() []label {
	if s.grouped {
		return []label{{"operation", s.operation}, {"service_name", s.service}}
	}
	return []label{{"service_name", s.service}}
}

// window sums the minutes that start in [from, to).
func (s *opSeries) window(from, to time.Time) (calls, errs uint64, lat sketch.Sketch) {
	const minute = int64(time.Minute)
	for m := (from.UnixNano() + minute - 1) / minute; m*minute < to.UnixNano(); m++ {
		if c := s.minutes[m]; c != nil {
			calls += c.calls
			errs += c.errors
			lat.Merge(&c.latency)
		}
	}
	return calls, errs, lat
}

// metricSeries reads the per-minute statistics of every series of mq.
func (a *API) metricSeries(r *http.Request, mq *metricsQuery) ([]*opSeries, error) {
	first := mq.end.Add(-time.Duration(mq.points-1)*mq.step - mq.ratePer).Truncate(time.Minute)
	rng := storage.TimeRange{Start: uint64(first.UnixNano()), End: uint64(mq.end.UnixNano()) - 1}
	byKey := map[[2]string]*opSeries{}
	for _, svc := range mq.services {
		stats, err := a.q.OperationStats(r.Context(), storage.StatsQuery{Service: svc, Range: rng, Step: time.Minute})
		if err != nil {
			return nil, err
		}
		for i := range stats {
			os := &stats[i]
			if !slices.Contains(mq.kinds, os.Kind) {
				continue
			}
			k := [2]string{os.Service, ""}
			if mq.groupByOperation {
				k[1] = os.Operation
			}
			s := byKey[k]
			if s == nil {
				s = &opSeries{service: k[0], operation: k[1], grouped: mq.groupByOperation, minutes: map[int64]*minuteStats{}}
				byKey[k] = s
			}
			for j := range os.Buckets {
				b := &os.Buckets[j]
				m := int64(b.StartUnixNano / uint64(time.Minute))
				c := s.minutes[m]
				if c == nil {
					c = &minuteStats{}
					s.minutes[m] = c
				}
				c.calls += b.Calls
				c.errors += b.Errors
				c.latency.Merge(&b.Latency)
			}
		}
	}
	out := make([]*opSeries, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *opSeries) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.operation, b.operation))
	})
	return out, nil
}

// parseMetricsQuery reads the parameters of /api/metrics/{type}: service
// (repeatable, required), quantile (required for latencies), spanKind
// (repeatable, default server), groupByOperation, and endTs, lookback,
// step and ratePer in milliseconds.
func parseMetricsQuery(v url.Values, latencies bool, now time.Time) (*metricsQuery, error) {
	mq := &metricsQuery{}
	for _, s := range v["service"] {
		if s != "" {
			mq.services = append(mq.services, s)
		}
	}
	if len(mq.services) == 0 {
		return nil, query.BadRequestf("parameter service is required")
	}
	if latencies {
		s := v.Get("quantile")
		q, err := strconv.ParseFloat(s, 64)
		if s == "" || err != nil || !(q > 0 && q <= 1) {
			return nil, query.BadRequestf("parameter quantile=%q must be a number in (0, 1]", s)
		}
		mq.quantile = q
	}
	if s := v.Get("groupByOperation"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, query.BadRequestf("malformed parameter groupByOperation=%q", s)
		}
		mq.groupByOperation = b
	}
	kinds := v["spanKind"]
	if len(kinds) == 0 {
		kinds = []string{"server"}
	}
	for _, k := range kinds {
		sk, ok := model.ParseSpanKind(strings.TrimPrefix(strings.ToLower(k), "span_kind_"))
		if !ok {
			return nil, query.BadRequestf("malformed parameter spanKind=%q", k)
		}
		mq.kinds = append(mq.kinds, sk)
	}
	end, hasEnd, err := parseMillis(v, "endTs")
	if err != nil {
		return nil, err
	}
	endT := now
	if hasEnd {
		endT = time.Unix(0, int64(end))
	}
	dur := func(name string, def time.Duration) (time.Duration, error) {
		d, ok, err := parseMillis(v, name)
		if err != nil || !ok {
			return def, err
		}
		if d == 0 {
			return 0, query.BadRequestf("parameter %s must be positive", name)
		}
		return time.Duration(d), nil
	}
	lookback, err := dur("lookback", defaultMetricsLookback)
	if err != nil {
		return nil, err
	}
	if mq.step, err = dur("step", defaultMetricsStep); err != nil {
		return nil, err
	}
	if mq.ratePer, err = dur("ratePer", defaultMetricsRatePer); err != nil {
		return nil, err
	}
	// NB: the statistics are per minute: a step or window finer than
	// that would repeat the same minutes, so both round up to minutes.
	mq.step = roundUp(mq.step, minStep)
	mq.ratePer = roundUp(mq.ratePer, minStep)
	// NB: the last point is at endTs itself, not a whole minute before
	// it, so that it counts the minute in progress.
	mq.end = endT
	mq.points = int(lookback/mq.step) + 1
	if mq.points > maxMetricsPoints {
		return nil, query.BadRequestf("lookback %s in steps of %s is %d points, more than %d", lookback, mq.step, mq.points, maxMetricsPoints)
	}
	return mq, nil
}

func roundUp(d, unit time.Duration) time.Duration {
	return (d + unit - 1) / unit * unit
}
