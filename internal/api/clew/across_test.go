package clew_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/api/clew"
)

type graphBody struct {
	TracesRead  int                  `json:"tracesRead"`
	SampleLimit int                  `json:"sampleLimit"`
	Complete    bool                 `json:"complete"`
	Edges       []analysis.GraphEdge `json:"edges"`
}

func TestServiceGraphEndpoint(t *testing.T) {
	f := newFixture(t, clew.Options{})
	var g graphBody
	if code := f.get(t, "/api/clew/servicegraph?lookback=24h", &g); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if g.TracesRead != 41 || !g.Complete || len(g.Edges) != 2 {
		t.Fatalf("graph = %+v", g)
	}
	want := []analysis.GraphEdge{
		{Parent: "checkout", Child: "payment", CallCount: 41, ErrorCount: 1, P50Ns: int64(160 * time.Millisecond), P99Ns: int64(960 * time.Millisecond)},
		{Parent: "payment", Child: "bank", CallCount: 41, ErrorCount: 1, P50Ns: int64(100 * time.Millisecond), P99Ns: int64(900 * time.Millisecond)},
	}
	for i := range want {
		if g.Edges[i] != want[i] {
			t.Errorf("edge %d = %+v, want %+v", i, g.Edges[i], want[i])
		}
	}

	// A small sample is marked incomplete.
	small := newFixture(t, clew.Options{SampleTraces: 5})
	small.get(t, "/api/clew/servicegraph?lookback=24h", &g)
	if g.TracesRead != 5 || g.Complete || g.Edges[0].CallCount != 5 {
		t.Errorf("sampled graph = %+v", g)
	}
}

type redBody struct {
	Service string               `json:"service"`
	StepNs  int64                `json:"stepNs"`
	Buckets []analysis.REDBucket `json:"buckets"`
}

func TestREDEndpoint(t *testing.T) {
	f := newFixture(t, clew.Options{})
	var r redBody
	path := "/api/clew/red?service=bank&operation=authorize&start=" + now.Add(-2*time.Hour).Format(time.RFC3339) + "&end=" + now.Format(time.RFC3339) + "&step=1h"
	if code := f.get(t, path, &r); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if r.Service != "bank" || r.StepNs != int64(time.Hour) || len(r.Buckets) != 2 {
		t.Fatalf("red = %+v", r)
	}
	// -2h..-1h: usual traces 3 and 4 (starting -90m and -2h); -1h..now:
	// traces 1 and 2 and the slow, failed one.
	b0, b1 := r.Buckets[0], r.Buckets[1]
	if b0.Count != 2 || b0.ErrorCount != 0 || b1.Count != 3 || b1.ErrorCount != 1 || b1.P99Ns != int64(900*time.Millisecond) ||
		b1.RatePerSecond != 3.0/3600 || b1.ErrorRatio != 1.0/3 {
		t.Errorf("buckets = %+v", r.Buckets)
	}

	for _, tc := range []struct{ path, msg string }{
		{"/api/clew/red", "service is required"},
		{"/api/clew/red?service=bank&step=1s&lookback=24h", "buckets"},
		{"/api/clew/red?service=bank&spanKind=sideways", "spanKind"},
		{"/api/clew/red?service=bank&start=2026-01-10T12:00:00Z&end=2026-01-10T11:00:00Z", "not before"},
		{"/api/clew/servicegraph?end=yesterday", "end"},
	} {
		var e errorBody
		if code := f.get(t, tc.path, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, tc.msg) {
			t.Errorf("GET %s: %d %+v, want 400 %q", tc.path, code, e, tc.msg)
		}
	}
}
