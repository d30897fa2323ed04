package analysis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// bigTrace builds a trace of n spans over 25 services with a fixed seed:
// every span has up to 8 children, some parallel and some sequential,
// 1% fail, and each service runs on its own host with a clock up to
// ±5 ms off, so skew correction, the critical path and error origin all
// have work to do.
func bigTrace(n int) *model.Trace {
	rng := rand.New(rand.NewPCG(1, 2))
	const services = 25
	res := make([]*model.Resource, services)
	offset := make([]int64, services)
	for i := range res {
		res[i] = &model.Resource{ServiceName: fmt.Sprintf("svc-%02d", i), Attributes: []model.KeyValue{
			str("service.name", fmt.Sprintf("svc-%02d", i)), str("host.name", fmt.Sprintf("host-%02d", i))}}
		offset[i] = rng.Int64N(10e6) - 5e6
	}
	tid := must(model.ParseTraceID(testTrace))
	type item struct {
		s     *model.Span
		svc   int
		start int64 // true start, ns after base
		d     int64
	}
	spans := make([]*model.Span, 0, n)
	var queue []item
	mk := func(parent *model.Span, svc int, start, d int64) item {
		s := &model.Span{TraceID: tid, Name: fmt.Sprintf("op-%d", rng.IntN(8)), Kind: model.KindServer, Resource: res[svc]}
		binaryID(&s.SpanID, uint64(len(spans)+1))
		if parent != nil {
			s.ParentSpanID = parent.SpanID
		}
		s.StartUnixNano = uint64(base.UnixNano() + start + offset[svc])
		s.EndUnixNano = s.StartUnixNano + uint64(d)
		if rng.IntN(100) == 0 {
			s.StatusCode, s.StatusMessage = model.StatusError, "boom"
		}
		spans = append(spans, s)
		return item{s, svc, start, d}
	}
	queue = append(queue, mk(nil, 0, 0, int64(10*time.Second)))
	for len(queue) > 0 && len(spans) < n {
		it := queue[0]
		queue = queue[1:]
		kids := 1 + rng.IntN(8)
		at := it.start + it.d/50
		for k := 0; k < kids && len(spans) < n; k++ {
			d := it.d / int64(2+rng.IntN(kids+2))
			if d < 1000 {
				break
			}
			svc := it.svc
			if rng.IntN(3) == 0 {
				svc = rng.IntN(services)
			}
			queue = append(queue, mk(it.s, svc, at, d))
			if rng.IntN(2) == 0 { // sequential, else parallel
				at += d + d/20
			}
		}
	}
	return &model.Trace{ID: tid, Spans: spans}
}

func binaryID(id *model.SpanID, v uint64) {
	for i := 7; i >= 0; i-- {
		id[i] = byte(v)
		v >>= 8
	}
}

// instantBaselines answers every operation at once, as a warm cache does.
type instantBaselines struct{ b Baseline }

func (f instantBaselines) Baseline(context.Context, BaselineQuery) (Baseline, error) { return f.b, nil }

func TestBigTraceShape(t *testing.T) {
	tr := bigTrace(20_000)
	if len(tr.Spans) != 20_000 {
		t.Fatalf("%d spans", len(tr.Spans))
	}
	e, err := Explain(context.Background(), tr, Options{Baselines: instantBaselines{usual(time.Millisecond, 2*time.Millisecond, 100)}})
	if err != nil {
		t.Fatal(err)
	}
	if e.SpanCount != 20_000 || len(e.Services) != 25 || len(e.CriticalPath) == 0 || e.Bottleneck == nil || e.ErrorCount == 0 {
		t.Errorf("explanation of a big trace: %d spans, %d services, %d path steps, errors %d",
			e.SpanCount, len(e.Services), len(e.CriticalPath), e.ErrorCount)
	}
	var sum uint64
	for _, p := range e.CriticalPath {
		sum += p.ContributionNs
	}
	if sum != e.DurationNs {
		t.Errorf("path contributions sum to %d, duration %d", sum, e.DurationNs)
	}
}

func BenchmarkExplain(b *testing.B) {
	for _, n := range []int{1_000, 20_000} {
		tr := bigTrace(n)
		opts := Options{Baselines: instantBaselines{usual(time.Millisecond, 2*time.Millisecond, 100)}}
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Explain(context.Background(), tr, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/span")
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	tr := bigTrace(20_000)
	b.ReportAllocs()
	for b.Loop() {
		Analyze(tr.Spans)
	}
}
