package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// e2eSpan is one span of an OTLP/JSON request built by otlpTraces.
type e2eSpan struct {
	trace, id, parent string
	service           string
	name              string
	kind              int
	start             time.Time
	dur               time.Duration
	errMsg            string // status error with this message when set
	exceptionType     string
}

// e2eResources are the resource attributes of each service: every one
// runs on its own host, and bank says who owns it (the owners file wins).
var e2eResources = map[string][][2]string{
	"checkout": {{"host.name", "co-1"}},
	"payment":  {{"host.name", "pay-1"}},
	"bank":     {{"host.name", "bank-1"}, {"service.owner", "overridden-by-file"}},
}

// otlpTraces builds an OTLP/JSON request, one resourceSpans per service.
func otlpTraces(spans []e2eSpan) []byte {
	type anyValue = map[string]any
	kv := func(k, v string) anyValue { return anyValue{"key": k, "value": anyValue{"stringValue": v}} }
	bySvc := map[string][]any{}
	var order []string
	for _, s := range spans {
		sp := anyValue{
			"traceId": s.trace, "spanId": s.id, "parentSpanId": s.parent, "name": s.name, "kind": s.kind,
			"startTimeUnixNano": fmt.Sprint(s.start.UnixNano()), "endTimeUnixNano": fmt.Sprint(s.start.Add(s.dur).UnixNano()),
		}
		if s.errMsg != "" {
			sp["status"] = anyValue{"code": 2, "message": s.errMsg}
		}
		if s.exceptionType != "" {
			sp["events"] = []any{anyValue{"timeUnixNano": fmt.Sprint(s.start.Add(s.dur).UnixNano()), "name": "exception",
				"attributes": []any{kv("exception.type", s.exceptionType), kv("exception.message", s.errMsg)}}}
		}
		if _, ok := bySvc[s.service]; !ok {
			order = append(order, s.service)
		}
		bySvc[s.service] = append(bySvc[s.service], sp)
	}
	var rs []any
	for _, svc := range order {
		attrs := []any{kv("service.name", svc)}
		for _, a := range e2eResources[svc] {
			attrs = append(attrs, kv(a[0], a[1]))
		}
		rs = append(rs, anyValue{"resource": anyValue{"attributes": attrs},
			"scopeSpans": []any{anyValue{"scope": anyValue{"name": "e2e"}, "spans": bySvc[svc]}}})
	}
	b, err := json.Marshal(anyValue{"resourceSpans": rs})
	if err != nil {
		panic(err)
	}
	return b
}

// shopSpans is a checkout → payment → bank trace starting at t0. The
// bank answers after bankMs; with failed, it times out and every caller
// fails. payment's host clock runs 50 ms behind, and payment retries a
// deadlocked database query once, successfully.
func shopSpans(trace string, t0 time.Time, bankMs int, failed bool) []e2eSpan {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const skew = -50 // payment's clock
	total := bankMs + 200
	fail := func(msg string) string {
		if failed {
			return msg
		}
		return ""
	}
	id := func(n int) string { return fmt.Sprintf("%s%02d", trace[:14], n) }
	spans := []e2eSpan{
		{trace, id(1), "", "checkout", "GET /checkout", 2, at(0), ms(total), fail("payment failed"), ""},
		{trace, id(2), id(1), "checkout", "charge", 3, at(10), ms(total - 20), fail("payment failed"), ""},
		{trace, id(3), id(2), "payment", "POST /charge", 2, at(20 + skew), ms(total - 40), fail("bank failed"), ""},
		{trace, id(4), id(3), "payment", "db query", 3, at(25 + skew), ms(3), "deadlock", ""},
		{trace, id(5), id(3), "payment", "db query", 3, at(28 + skew), ms(2), "", ""},
		{trace, id(6), id(3), "payment", "authorize", 3, at(30 + skew), ms(total - 60), fail("bank failed"), ""},
		{trace, id(7), id(6), "bank", "authorize", 2, at(40), ms(bankMs), fail("deadline exceeded"), ""},
		{trace, id(8), id(1), "checkout", "render", 1, at(total - 8), ms(6), "", ""},
	}
	if failed {
		spans[6].exceptionType = "TimeoutException"
	}
	return spans
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// explainDoc mirrors the fields of /api/clew/traces/{id}/explain that the
// test checks; decoding into it also checks their names and types.
type explainDoc struct {
	TraceID     string `json:"traceID"`
	RootService string `json:"rootService"`
	RootName    string `json:"rootName"`
	DurationNs  int64  `json:"durationNs"`
	SpanCount   int    `json:"spanCount"`
	ErrorCount  int    `json:"errorCount"`
	Services    []struct {
		Name       string `json:"name"`
		SpanCount  int    `json:"spanCount"`
		ErrorCount int    `json:"errorCount"`
		SelfTimeNs int64  `json:"selfTimeNs"`
		Owner      string `json:"owner"`
	} `json:"services"`
	Calls []struct {
		From       string `json:"from"`
		To         string `json:"to"`
		Count      int    `json:"count"`
		TotalNs    int64  `json:"totalNs"`
		ErrorCount int    `json:"errorCount"`
	} `json:"calls"`
	CriticalPath []struct {
		SpanID         string `json:"spanID"`
		Service        string `json:"service"`
		Name           string `json:"name"`
		StartNs        int64  `json:"startNs"`
		EndNs          int64  `json:"endNs"`
		ContributionNs int64  `json:"contributionNs"`
	} `json:"criticalPath"`
	Bottleneck struct {
		SpanID         string  `json:"spanID"`
		Service        string  `json:"service"`
		Name           string  `json:"name"`
		CallerService  string  `json:"callerService"`
		ContributionNs int64   `json:"contributionNs"`
		Share          float64 `json:"share"`
	} `json:"bottleneck"`
	ErrorOrigin *struct {
		SpanID        string `json:"spanID"`
		Service       string `json:"service"`
		Name          string `json:"name"`
		Message       string `json:"message"`
		ExceptionType string `json:"exceptionType"`
		ReachedRoot   bool   `json:"reachedRoot"`
		ErrorChain    []struct {
			Service string `json:"service"`
			Name    string `json:"name"`
		} `json:"errorChain"`
	} `json:"errorOrigin"`
	RecoveredErrors []struct {
		SpanID    string `json:"spanID"`
		Name      string `json:"name"`
		Message   string `json:"message"`
		RetriedBy string `json:"retriedBy"`
	} `json:"recoveredErrors"`
	Abnormal struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
		Spans   []struct {
			SpanID        string  `json:"spanID"`
			Service       string  `json:"service"`
			Name          string  `json:"name"`
			DurationNs    int64   `json:"durationNs"`
			BaselineP50Ns int64   `json:"baselineP50Ns"`
			BaselineP99Ns int64   `json:"baselineP99Ns"`
			Samples       int     `json:"samples"`
			Percentile    float64 `json:"percentile"`
		} `json:"spans"`
	} `json:"abnormal"`
	Page struct {
		Kind    string `json:"kind"`
		Service string `json:"service"`
		Owner   string `json:"owner"`
		Contact string `json:"contact"`
		Runbook string `json:"runbook"`
		Reason  string `json:"reason"`
	} `json:"page"`
	Summary  string   `json:"summary"`
	Warnings []string `json:"warnings"`
}

// TestExplainEndToEnd sends 25 usual shop traces and one slow, failed one
// over OTLP/HTTP and checks /api/clew/traces/{id}/explain field by field.
func TestExplainEndToEnd(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.OwnersFile = filepath.Join(t.TempDir(), "owners.yaml")
	if err := os.WriteFile(cfg.OwnersFile, []byte(`
services:
  - service: "bank*"
    team: team-bank
    contact: "#bank-oncall"
    runbook: https://runbooks.example/bank
  - service: checkout
    team: team-checkout
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, cfg)
	send := func(spans []e2eSpan) {
		t.Helper()
		if code, body := post(t, ts.url("otlp-http", "/v1/traces"), "application/json", otlpTraces(spans)); code != 200 {
			t.Fatalf("POST /v1/traces: %d %s", code, body)
		}
	}
	now := time.Now()
	for i := range 25 {
		send(shopSpans(fmt.Sprintf("%032x", 0xbe000+i), now.Add(-time.Duration(30+i)*time.Minute), 100+i, false))
	}
	const slow = "5107d3a1e5f44c0a9d4c7e8e0c1a2b3c"
	send(shopSpans(slow, now.Add(-time.Minute), 800, true))

	var e explainDoc
	getJSON(t, ts.url("http", "/api/clew/traces/"+slow+"/explain"), 200, &e)
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	id := func(n int) string { return fmt.Sprintf("%s%02d", slow[:14], n) }

	check("traceID", e.TraceID, slow)
	check("rootService", e.RootService, "checkout")
	check("rootName", e.RootName, "GET /checkout")
	check("durationNs", e.DurationNs, int64(ms(1000)))
	check("spanCount", e.SpanCount, 8)
	check("errorCount", e.ErrorCount, 6)

	type svc struct {
		name          string
		spans, errors int
		self          time.Duration
		owner         string
	}
	var gotSvcs []svc
	for _, s := range e.Services {
		gotSvcs = append(gotSvcs, svc{s.Name, s.SpanCount, s.ErrorCount, time.Duration(s.SelfTimeNs), s.Owner})
	}
	check("services", gotSvcs, []svc{
		{"checkout", 3, 2, ms(14 + 20 + 6), "team-checkout"},
		{"payment", 4, 3, ms(15 + 3 + 2 + 140), ""},
		{"bank", 1, 1, ms(800), "team-bank"},
	})
	var calls []string
	for _, c := range e.Calls {
		calls = append(calls, fmt.Sprintf("%s→%s %d %v %d", c.From, c.To, c.Count, time.Duration(c.TotalNs), c.ErrorCount))
	}
	check("calls", calls, []string{"checkout→payment 1 960ms 1", "payment→bank 1 800ms 1"})

	// The critical path after correcting payment's clock by +50 ms.
	var path []string
	var sum int64
	for _, p := range e.CriticalPath {
		path = append(path, fmt.Sprintf("%s %s %s [%v,%v] %v", p.SpanID[14:], p.Service, p.Name,
			time.Duration(p.StartNs), time.Duration(p.EndNs), time.Duration(p.ContributionNs)))
		sum += p.ContributionNs
	}
	check("criticalPath", path, []string{
		"01 checkout GET /checkout [0s,1s] 14ms",
		"02 checkout charge [10ms,990ms] 20ms",
		"03 payment POST /charge [20ms,980ms] 15ms",
		"04 payment db query [25ms,28ms] 3ms",
		"05 payment db query [28ms,30ms] 2ms",
		"06 payment authorize [30ms,970ms] 140ms",
		"07 bank authorize [40ms,840ms] 800ms",
		"08 checkout render [992ms,998ms] 6ms",
	})
	check("sum of contributions", sum, e.DurationNs)

	b := e.Bottleneck
	check("bottleneck", fmt.Sprint(b.SpanID, b.Service, b.Name, b.CallerService, time.Duration(b.ContributionNs), b.Share),
		fmt.Sprint(id(7), "bank", "authorize", "payment", ms(800), 0.8))

	if eo := e.ErrorOrigin; eo == nil {
		t.Error("errorOrigin is null")
	} else {
		check("errorOrigin", fmt.Sprint(eo.SpanID, eo.Service, eo.Name, eo.Message, eo.ExceptionType, eo.ReachedRoot),
			fmt.Sprint(id(7), "bank", "authorize", "deadline exceeded", "TimeoutException", true))
		var chain []string
		for _, c := range eo.ErrorChain {
			chain = append(chain, c.Service+" "+c.Name)
		}
		check("errorChain", chain, []string{"payment authorize", "payment POST /charge", "checkout charge", "checkout GET /checkout"})
	}
	check("recoveredErrors", len(e.RecoveredErrors), 1)
	if len(e.RecoveredErrors) == 1 {
		r := e.RecoveredErrors[0]
		check("recovered", fmt.Sprint(r.SpanID, r.Name, r.Message, r.RetriedBy), fmt.Sprint(id(4), "db query", "deadlock", id(5)))
	}

	// Baselines from the 25 usual traces: bank took 100-124 ms, the
	// request 300-324 ms. The engine answers them from its latency
	// sketches, so quantiles are within 1% (and printed as such).
	check("verdict", e.Abnormal.Verdict, "abnormal")
	if !regexp.MustCompile(`checkout GET /checkout took 1\.0 s, above its p99 of 32[0-7] ms \(p50 3(09|1[0-5]) ms; 25 spans in the last 24 h\)`).MatchString(e.Abnormal.Reason) {
		t.Errorf("abnormal reason = %s", e.Abnormal.Reason)
	}
	near := func(got int64, want time.Duration) bool {
		return math.Abs(float64(got)-float64(want)) <= 0.01*float64(want)
	}
	found := false
	for _, s := range e.Abnormal.Spans {
		if s.SpanID == id(7) {
			found = true
			check("abnormal bank", fmt.Sprint(time.Duration(s.DurationNs), s.Samples, s.Percentile), fmt.Sprint(ms(800), 25, 100.0))
			if !near(s.BaselineP50Ns, ms(112)) || !near(s.BaselineP99Ns, ms(124)) {
				t.Errorf("abnormal bank baseline p50 %v p99 %v, want 112 ms and 124 ms within 1%%", time.Duration(s.BaselineP50Ns), time.Duration(s.BaselineP99Ns))
			}
		}
	}
	if !found {
		t.Errorf("bank authorize is not among the abnormal spans: %+v", e.Abnormal.Spans)
	}

	p := e.Page
	check("page", fmt.Sprint(p.Kind, p.Service, p.Owner, p.Contact, p.Runbook),
		fmt.Sprint("error", "bank", "team-bank", "#bank-oncall", "https://runbooks.example/bank"))
	check("page reason", p.Reason, "the error started in bank authorize: deadline exceeded")
	check("summary", regexp.MustCompile(`p99 of 32[0-7] ms`).ReplaceAllString(e.Summary, "p99 of 324 ms"), "checkout GET /checkout took 1.0 s and failed, above its usual p99 of 324 ms; "+
		"80% of it was bank authorize (payment → bank), which failed (deadline exceeded). "+
		"The error started there and propagated up through 4 spans to the root; 1 failed attempt (payment db query) was recovered by a retry. "+
		"Page team-bank (#bank-oncall).")
	if len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "clock skew: 4 spans of payment") || !strings.Contains(e.Warnings[0], "+50 ms") {
		t.Errorf("warnings = %q", e.Warnings)
	}

	// The waterfall of the same trace, and the servicegraph across traces.
	var w struct {
		Spans []struct {
			Name        string `json:"name"`
			SkewNs      int64  `json:"skewNs"`
			ErrorOrigin bool   `json:"errorOrigin"`
		} `json:"spans"`
	}
	getJSON(t, ts.url("http", "/api/clew/traces/"+slow+"/waterfall"), 200, &w)
	if len(w.Spans) != 8 || w.Spans[2].SkewNs != int64(ms(50)) || !w.Spans[6].ErrorOrigin {
		t.Errorf("waterfall = %+v", w.Spans)
	}
	var g struct {
		TracesRead int  `json:"tracesRead"`
		Complete   bool `json:"complete"`
		Edges      []struct {
			Parent     string `json:"parent"`
			Child      string `json:"child"`
			CallCount  int    `json:"callCount"`
			ErrorCount int    `json:"errorCount"`
		} `json:"edges"`
	}
	getJSON(t, ts.url("http", "/api/clew/servicegraph?lookback=2h"), 200, &g)
	// The embedded engine keeps edge statistics: no trace is sampled.
	if g.TracesRead != 0 || !g.Complete || len(g.Edges) != 2 || g.Edges[1].Parent != "payment" || g.Edges[1].CallCount != 26 || g.Edges[1].ErrorCount != 1 {
		t.Errorf("servicegraph = %+v", g)
	}
}

func TestOwnersFileErrors(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.OwnersFile = filepath.Join(t.TempDir(), "missing.yaml")
	if _, err := New(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "owners file") {
		t.Errorf("missing owners file: %v", err)
	}
}
