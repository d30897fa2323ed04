package eval

import (
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/traceql"
)

// Grid is the time axis of a metrics query: Buckets() steps of Step
// nanoseconds from Start; a span belongs to the step in which it started.
// Spans starting at or after End are ignored.
type Grid struct {
	Start, End, Step uint64
}

// Buckets returns the number of steps.
func (g Grid) Buckets() int {
	if g.Step == 0 || g.End <= g.Start {
		return 0
	}
	return int((g.End - g.Start + g.Step - 1) / g.Step)
}

// bucket returns the step a time falls in, or -1.
func (g Grid) bucket(t uint64) int {
	if t < g.Start || t >= g.End {
		return -1
	}
	return int((t - g.Start) / g.Step)
}

// Series is one time series of a metrics query.
type Series struct {
	// Labels are the by() values, then "p" for quantile_over_time or
	// "__bucket" for histogram_over_time.
	Labels []Attribute
	// Values holds one value per step of the grid; NaN where the step
	// has no value.
	Values []float64
}

// PromLabels renders the labels the Prometheus way: {a="x", b="y"}.
func (s Series) PromLabels() string {
	parts := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		parts[i] = l.Name + "=" + strconv.Quote(LabelText(l.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// LabelText renders a label value: strings as they are, numbers in their
// shortest form (0.5, 1e-06), statuses and kinds by name, nil as "nil".
func LabelText(v traceql.Value) string {
	if v.Type == traceql.TypeFloat {
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	}
	return v.Text()
}

// Metrics accumulates the spans a metrics query selects into series. It
// is not safe for concurrent use.
type Metrics struct {
	e      *Evaluator
	m      *traceql.MetricsAggregate
	grid   Grid
	n      int
	groups map[string]*group
}

// group is one combination of by() values.
type group struct {
	labels []Attribute
	count  []float64
	values [][]float64 // per step, for the field aggregations
}

// MaxBuckets bounds the steps of a grid.
const MaxBuckets = 11_000

// NewMetrics starts accumulating the series of the evaluator's metrics query.
func (e *Evaluator) NewMetrics(g Grid) (*Metrics, error) {
	if e.q.Metrics == nil {
		return nil, errors.New("not a metrics query")
	}
	n := g.Buckets()
	if n == 0 {
		return nil, errors.New("empty time range or zero step")
	}
	if n > MaxBuckets {
		return nil, errors.New("too many steps: raise the step or shorten the range")
	}
	return &Metrics{e: e, m: e.q.Metrics, grid: g, n: n, groups: map[string]*group{}}, nil
}

// Observe adds the spans of t that matched the query.
func (m *Metrics) Observe(t *Trace, spans []*Span) {
	needValues := m.m.Func != traceql.MetricsRate && m.m.Func != traceql.MetricsCountOverTime
	var key strings.Builder
	for _, s := range spans {
		i := m.grid.bucket(s.StartUnixNano)
		if i < 0 {
			continue
		}
		b := &binding{trace: t, span: s}
		key.Reset()
		labels := make([]Attribute, len(m.m.By))
		for j, by := range m.m.By {
			v := m.e.f.value(by, b)
			labels[j] = Attribute{Name: by.String(), Value: v}
			key.WriteString(v.String())
			key.WriteByte(0)
		}
		g := m.groups[key.String()]
		if g == nil {
			g = &group{labels: labels, count: make([]float64, m.n)}
			if needValues {
				g.values = make([][]float64, m.n)
			}
			m.groups[key.String()] = g
		}
		if needValues {
			x, ok := metricNumber(m.e.f.value(m.m.Arg, b))
			if !ok {
				continue
			}
			g.values[i] = append(g.values[i], x)
		}
		g.count[i]++
	}
}

// metricNumber returns a field's value as a metric: durations in seconds,
// as Prometheus and Tempo report them.
func metricNumber(v traceql.Value) (float64, bool) {
	switch v.Type {
	case traceql.TypeDuration:
		return float64(v.Int) / 1e9, true
	case traceql.TypeInt:
		return float64(v.Int), true
	case traceql.TypeFloat:
		return v.Float, !math.IsNaN(v.Float)
	}
	return 0, false
}

// Series returns the series, sorted by labels, after the query's
// second-stage functions.
func (m *Metrics) Series() []Series {
	var out []Series
	stepSeconds := float64(m.grid.Step) / 1e9
	for _, g := range m.groups {
		switch m.m.Func {
		case traceql.MetricsRate, traceql.MetricsCountOverTime:
			vals := make([]float64, m.n)
			for i, c := range g.count {
				vals[i] = c
				if m.m.Func == traceql.MetricsRate {
					vals[i] = c / stepSeconds
				}
			}
			out = append(out, Series{Labels: g.labels, Values: vals})
		case traceql.MetricsSumOverTime, traceql.MetricsMinOverTime, traceql.MetricsMaxOverTime, traceql.MetricsAvgOverTime:
			vals := make([]float64, m.n)
			for i, xs := range g.values {
				vals[i] = reduce(m.m.Func, xs)
			}
			out = append(out, Series{Labels: g.labels, Values: vals})
		case traceql.MetricsQuantileOverTime:
			for _, p := range m.m.Params {
				q, _ := p.Number()
				vals := make([]float64, m.n)
				for i, xs := range g.values {
					vals[i] = Quantile(xs, q)
				}
				labels := append(slices.Clip(g.labels), Attribute{Name: "p", Value: traceql.FloatValue(q)})
				out = append(out, Series{Labels: labels, Values: vals})
			}
		case traceql.MetricsHistogramOverTime:
			counts := map[float64][]float64{}
			for i, xs := range g.values {
				for _, x := range xs {
					b := HistogramBucket(x)
					if counts[b] == nil {
						counts[b] = make([]float64, m.n)
					}
					counts[b][i]++
				}
			}
			for b, vals := range counts {
				labels := append(slices.Clip(g.labels), Attribute{Name: "__bucket", Value: traceql.FloatValue(b)})
				out = append(out, Series{Labels: labels, Values: vals})
			}
		}
	}
	sortSeries(out)
	for _, s := range m.e.q.SecondStage {
		out = secondStage(s, out, m.n)
	}
	return out
}

// reduce aggregates one step's values; NaN when there are none.
func reduce(f traceql.MetricsFunc, xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	acc := xs[0]
	sum := 0.0
	for _, x := range xs {
		sum += x
		switch f {
		case traceql.MetricsMinOverTime:
			acc = min(acc, x)
		case traceql.MetricsMaxOverTime:
			acc = max(acc, x)
		}
	}
	switch f {
	case traceql.MetricsSumOverTime:
		return sum
	case traceql.MetricsAvgOverTime:
		return sum / float64(len(xs))
	}
	return acc
}

// Quantile returns the q-quantile of xs by linear interpolation between
// the closest ranks (NaN for no values). It is exact, not estimated from
// a histogram: the engine has every value of the spans it fetched.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	frac := pos - float64(lo)
	return s[lo] + (s[hi]-s[lo])*frac
}

// HistogramBucket returns the upper bound of the power-of-two bucket x
// falls in: the smallest power of two at least x (0 for x <= 0). For
// durations, x is in seconds and the powers of two are taken over
// nanoseconds, as durations are integers of them.
func HistogramBucket(x float64) float64 {
	if x <= 0 {
		return 0
	}
	ns := x * 1e9
	return math.Exp2(math.Ceil(math.Log2(ns))) / 1e9
}

func sortSeries(ss []Series) {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i].Labels, ss[j].Labels
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k].Name != b[k].Name {
				return a[k].Name < b[k].Name
			}
			if c := compareLabel(a[k].Value, b[k].Value); c != 0 {
				return c < 0
			}
		}
		return len(a) < len(b)
	})
}

// compareLabel orders label values: numbers numerically, others by text.
func compareLabel(a, b traceql.Value) int {
	x, okx := a.Number()
	y, oky := b.Number()
	if okx && oky {
		return cmpFloat(x, y)
	}
	return strings.Compare(a.String(), b.String())
}

// secondStage applies topk or bottomk: at each step, only the n series
// with the largest (smallest) values keep their value there; series left
// with no value at all are dropped.
func secondStage(s *traceql.SecondStage, in []Series, steps int) []Series {
	for i := range steps {
		var idx []int
		for k, ser := range in {
			if !math.IsNaN(ser.Values[i]) {
				idx = append(idx, k)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool {
			va, vb := in[idx[a]].Values[i], in[idx[b]].Values[i]
			if s.Func == traceql.SecondBottomK {
				return va < vb
			}
			return va > vb
		})
		for _, k := range idx[min(s.N, len(idx)):] {
			in[k].Values[i] = math.NaN()
		}
	}
	return slices.DeleteFunc(in, func(ser Series) bool {
		return !slices.ContainsFunc(ser.Values, func(v float64) bool { return !math.IsNaN(v) })
	})
}
