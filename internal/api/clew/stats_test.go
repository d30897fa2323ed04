package clew_test

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/api/clew"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/prometheus/client_golang/prometheus"
)

// statsBackends are the backends with operation statistics the API is
// tested on.
func statsBackends(t *testing.T) map[string]func() storage.Backend {
	return map[string]func() storage.Backend{
		"memstore": func() storage.Backend { return memstore.New() },
		"local": func() storage.Backend {
			db, err := local.Open(t.TempDir(), local.Options{
				Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(),
			})
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
	}
}

// within reports whether got is within 1% of want.
func within(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= 0.01*float64(want)
}

type redStatsBody struct {
	TracesRead  int                  `json:"tracesRead"`
	SampleLimit int                  `json:"sampleLimit"`
	Complete    bool                 `json:"complete"`
	Service     string               `json:"service"`
	StepNs      int64                `json:"stepNs"`
	Buckets     []analysis.REDBucket `json:"buckets"`
}

func TestREDEndpointFromStats(t *testing.T) {
	for name, open := range statsBackends(t) {
		t.Run(name, func(t *testing.T) {
			f := newStatsFixture(t, open(), clew.Options{SampleTraces: 5})
			var r redStatsBody
			path := "/api/clew/red?service=bank&operation=authorize&start=" + now.Add(-2*time.Hour).Format(time.RFC3339) + "&end=" + now.Format(time.RFC3339) + "&step=1h"
			if code := f.get(t, path, &r); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if !r.Complete || r.TracesRead != 0 || r.SampleLimit != 0 || r.StepNs != int64(time.Hour) || len(r.Buckets) != 2 {
				t.Fatalf("red = %+v", r)
			}
			// Every span counts, though the sample limit is 5.
			b0, b1 := r.Buckets[0], r.Buckets[1]
			if b0.Count != 2 || b0.ErrorCount != 0 || b1.Count != 3 || b1.ErrorCount != 1 ||
				!within(time.Duration(b1.P99Ns), 900*time.Millisecond) || b1.RatePerSecond != 3.0/3600 || b1.ErrorRatio != 1.0/3 {
				t.Errorf("buckets = %+v", r.Buckets)
			}
			// The whole day: 41 bank calls, one of them failed.
			path = "/api/clew/red?service=bank&spanKind=server&lookback=24h&step=24h"
			if code := f.get(t, path, &r); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			total, errs := 0, 0
			for _, b := range r.Buckets {
				total += b.Count
				errs += b.ErrorCount
			}
			if total != 41 || errs != 1 {
				t.Errorf("day: %d calls, %d errors; want 41, 1 (%+v)", total, errs, r.Buckets)
			}
			// A kind the operation does not have: no calls.
			f.get(t, "/api/clew/red?service=bank&spanKind=client&lookback=24h&step=24h", &r)
			for _, b := range r.Buckets {
				if b.Count != 0 {
					t.Errorf("client kind: %+v", r.Buckets)
				}
			}
			if n := f.reader.finds.Load(); n != 0 {
				t.Errorf("%d searches; want none with statistics", n)
			}
		})
	}
}

func TestBaselinesFromStats(t *testing.T) {
	for name, open := range statsBackends(t) {
		t.Run(name, func(t *testing.T) {
			f := newStatsFixture(t, open(), clew.Options{})
			b := clew.NewBaselines(f.q, clew.BaselineOptions{Traces: 25})
			q := analysis.BaselineQuery{Service: "bank", Operation: "authorize", Range: day(), Exclude: must(model.ParseTraceID(slowTrace))}
			got, err := b.Baseline(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			// Every bank span of the day, the explained trace's included
			// (80-119 ms and 900 ms): with 41 calls it is the p99 itself,
			// which is why a baseline needs many more calls than this.
			if got.Count != 41 || !within(got.P50, 100*time.Millisecond) || !within(got.P99, 900*time.Millisecond) || got.Sketch == nil {
				t.Errorf("baseline = %d samples p50 %v p99 %v", got.Count, got.P50, got.P99)
			}
			if p := got.Percentile(900 * time.Millisecond); p < 97 || p > 98 {
				t.Errorf("percentile of 900ms = %v, want 40/41", p)
			}
			// Given the explained trace's durations, they are taken back out.
			q.ExcludeDurations = []time.Duration{900 * time.Millisecond}
			got, err = b.Baseline(context.Background(), q)
			if err != nil || got.Count != 40 || !within(got.P99, 119*time.Millisecond) {
				t.Errorf("baseline without the explained span = %d samples p99 %v (%v)", got.Count, got.P99, err)
			}
			if n := f.reader.finds.Load(); n != 0 {
				t.Errorf("%d searches; want none with statistics", n)
			}
			if got, err := b.Baseline(context.Background(), analysis.BaselineQuery{Service: "bank", Operation: "refund", Range: day()}); err != nil || got.Count != 0 {
				t.Errorf("unknown operation: %+v %v", got, err)
			}
		})
	}
}

// Explaining on a backend with statistics takes the baselines from them:
// every bank call of the day but the explained one's, and no search.
func TestExplainEndpointFromStats(t *testing.T) {
	for name, open := range statsBackends(t) {
		t.Run(name, func(t *testing.T) {
			f := newStatsFixture(t, open(), clew.Options{})
			var e analysis.Explanation
			if code := f.get(t, "/api/clew/traces/"+slowTrace+"/explain", &e); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			var bankBase *analysis.OperationBaseline
			for i, b := range e.Abnormal.Baselines {
				if b.Service == "bank" {
					bankBase = &e.Abnormal.Baselines[i]
				}
			}
			if bankBase == nil || bankBase.Samples != 40 || !within(time.Duration(bankBase.P50Ns), 99*time.Millisecond) ||
				!within(time.Duration(bankBase.P99Ns), 119*time.Millisecond) {
				t.Errorf("bank baseline = %+v", bankBase)
			}
			if n := f.reader.finds.Load(); n != 0 {
				t.Errorf("%d searches; want none with statistics", n)
			}
		})
	}
}

// On a backend with statistics the service graph reads the edge
// statistics: every call of the window counts however small the sample
// limit, and no trace is searched.
func TestServiceGraphEndpointFromStats(t *testing.T) {
	for name, open := range statsBackends(t) {
		t.Run(name, func(t *testing.T) {
			f := newStatsFixture(t, open(), clew.Options{SampleTraces: 5})
			var g graphBody
			if code := f.get(t, "/api/clew/servicegraph?lookback=24h", &g); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if !g.Complete || g.TracesRead != 0 || g.SampleLimit != 0 || len(g.Edges) != 2 {
				t.Fatalf("graph = %+v", g)
			}
			want := []analysis.GraphEdge{
				{Parent: "checkout", Child: "payment", CallCount: 41, ErrorCount: 1, P50Ns: int64(160 * time.Millisecond), P99Ns: int64(960 * time.Millisecond)},
				{Parent: "payment", Child: "bank", CallCount: 41, ErrorCount: 1, P50Ns: int64(100 * time.Millisecond), P99Ns: int64(900 * time.Millisecond)},
			}
			for i, w := range want {
				e := g.Edges[i]
				if e.Parent != w.Parent || e.Child != w.Child || e.CallCount != w.CallCount || e.ErrorCount != w.ErrorCount ||
					!within(time.Duration(e.P50Ns), time.Duration(w.P50Ns)) || !within(time.Duration(e.P99Ns), time.Duration(w.P99Ns)) {
					t.Errorf("edge %d = %+v, want %+v (quantiles within 1%%)", i, e, w)
				}
			}
			// A window after the data has no edges.
			var empty graphBody
			f.get(t, "/api/clew/servicegraph?start="+now.Add(time.Minute).Format(time.RFC3339)+"&end="+now.Add(time.Hour).Format(time.RFC3339), &empty)
			if len(empty.Edges) != 0 {
				t.Errorf("graph after the data = %+v", empty)
			}
			if n := f.reader.finds.Load(); n != 0 {
				t.Errorf("%d searches; want none with statistics", n)
			}
		})
	}
}
