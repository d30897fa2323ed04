package clew_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/api/clew"
)

func TestExplainEndpoint(t *testing.T) {
	owners := must(analysis.ParseOwners([]byte("services:\n  - service: checkout\n    team: team-checkout\n")))
	f := newFixture(t, clew.Options{Owners: owners})
	var e analysis.Explanation
	if code := f.get(t, "/api/clew/traces/"+slowTrace+"/explain", &e); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if e.TraceID != slowTrace || e.RootService != "checkout" || e.DurationNs != uint64(time.Second) || e.SpanCount != 4 {
		t.Errorf("header = %s %s %d %d", e.TraceID, e.RootService, e.DurationNs, e.SpanCount)
	}
	if len(e.Services) != 3 || e.Services[0].Owner != "team-checkout" || e.Services[2].Owner != "team-bank" {
		t.Errorf("services = %+v", e.Services)
	}
	if e.ErrorOrigin == nil || e.ErrorOrigin.Service != "bank" || e.ErrorOrigin.Message != "deadline exceeded" || len(e.ErrorOrigin.ErrorChain) != 3 {
		t.Errorf("error origin = %+v", e.ErrorOrigin)
	}
	// The bank's 40 usual spans (80-119 ms) make a baseline; this one is 900 ms.
	ab := e.Abnormal
	if ab.Verdict != "abnormal" || ab.LookbackNs != int64(24*time.Hour) {
		t.Errorf("abnormal = %+v", ab)
	}
	var bankBase *analysis.OperationBaseline
	for i, b := range ab.Baselines {
		if b.Service == "bank" {
			bankBase = &ab.Baselines[i]
		}
	}
	if bankBase == nil || bankBase.Samples != 40 || bankBase.P50Ns != int64(99*time.Millisecond) || bankBase.P99Ns != int64(119*time.Millisecond) {
		t.Errorf("bank baseline = %+v (the explained trace must not count)", bankBase)
	}
	if p := e.Page; p == nil || p.Kind != "error" || p.Owner != "team-bank" || p.Contact != "#bank-oncall" {
		t.Errorf("page = %+v", e.Page)
	}
	if !strings.Contains(e.Summary, "bank authorize (payment → bank), which failed (deadline exceeded)") || !strings.HasSuffix(e.Summary, "Page team-bank (#bank-oncall).") {
		t.Errorf("summary = %s", e.Summary)
	}

	// Without baselines; and with a lookback too short for any history.
	var nb analysis.Explanation
	f.get(t, "/api/clew/traces/"+slowTrace+"/explain?baselines=false", &nb)
	if nb.Abnormal.Verdict != "unknown" || len(nb.Abnormal.Baselines) != 0 {
		t.Errorf("baselines=false: %+v", nb.Abnormal)
	}
	var short analysis.Explanation
	f.get(t, "/api/clew/traces/"+slowTrace+"/explain?lookback=1h", &short)
	if short.Abnormal.Verdict != "unknown" || short.Abnormal.LookbackNs != int64(time.Hour) {
		t.Errorf("lookback=1h: %+v", short.Abnormal)
	}
}

func TestExplainErrors(t *testing.T) {
	f := newFixture(t, clew.Options{})
	for _, tc := range []struct {
		path string
		code int
		msg  string
	}{
		{"/api/clew/traces/00000000000000000000000000000fff/explain", 404, "trace not found"},
		{"/api/clew/traces/not-hex/explain", 400, "malformed trace ID"},
		{"/api/clew/traces/0/explain", 400, "all zero"},
		{"/api/clew/traces/" + slowTrace + "/explain?lookback=forever", 400, "lookback"},
		{"/api/clew/traces/" + slowTrace + "/explain?baselines=maybe", 400, "baselines"},
		{"/api/clew/traces/not-hex/waterfall", 400, "malformed trace ID"},
		{"/api/clew/traces/00000000000000000000000000000fff/waterfall", 404, "trace not found"},
	} {
		var body errorBody
		if code := f.get(t, tc.path, &body); code != tc.code || body.Error.Status != tc.code || !strings.Contains(body.Error.Message, tc.msg) {
			t.Errorf("GET %s: %d %+v, want %d %q", tc.path, code, body, tc.code, tc.msg)
		}
	}
}

func TestWaterfallEndpoint(t *testing.T) {
	f := newFixture(t, clew.Options{})
	var w analysis.Waterfall
	if code := f.get(t, "/api/clew/traces/"+slowTrace+"/waterfall", &w); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if w.TraceID != slowTrace || len(w.Spans) != 4 || w.DurationNs != uint64(time.Second) {
		t.Fatalf("waterfall = %+v", w)
	}
	last := w.Spans[3]
	if last.Service != "bank" || last.Depth != 3 || !last.ErrorOrigin || last.CriticalNs != uint64(900*time.Millisecond) ||
		last.StartNs != int64(30*time.Millisecond) || last.Message != "deadline exceeded" {
		t.Errorf("bank row = %+v", last)
	}
}
