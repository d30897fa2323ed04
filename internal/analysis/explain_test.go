package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func rangeOf(d time.Duration) storage.TimeRange {
	return storage.TimeRange{Start: uint64(base.Add(-d).UnixNano()), End: uint64(base.UnixNano())}
}

func testOwners(t *testing.T) *Owners {
	t.Helper()
	o, err := ParseOwners([]byte(`
services:
  - service: bank
    team: team-bank
    contact: "#bank-oncall"
    runbook: https://runbooks.example/bank
  - service: checkout
    team: team-checkout
`))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// shopBaselines: checkout usually takes 400 ms (p99 600 ms), bank
// authorize 120 ms (p99 300 ms); payment has too little history.
func shopBaselines() *fakeBaselines {
	return &fakeBaselines{byOp: map[opKey]Baseline{
		{"checkout", "GET /checkout"}: usual(400*time.Millisecond, 600*time.Millisecond, 240),
		{"bank", "authorize"}:         usual(120*time.Millisecond, 300*time.Millisecond, 240),
		{"payment", "authorize"}:      usual(100*time.Millisecond, 110*time.Millisecond, 5),
	}}
}

func explain(t *testing.T, tr *model.Trace, bl BaselineSource) *Explanation {
	t.Helper()
	e, err := Explain(context.Background(), tr, Options{
		Owners: testOwners(t), Baselines: bl, Now: func() time.Time { return base },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExplainSlowLeaf(t *testing.T) {
	bl := shopBaselines()
	e := explain(t, slowLeaf(), bl)
	if e.TraceID != testTrace || e.RootService != "checkout" || e.RootName != "GET /checkout" ||
		e.DurationNs != dur(1000) || e.RootDurationNs != dur(1000) || e.SpanCount != 6 || e.ErrorCount != 0 {
		t.Errorf("header = %+v", e)
	}
	wantSvcs := []ServiceEntry{
		{Name: "checkout", SpanCount: 3, SelfTimeNs: dur(70), Owner: "team-checkout"},
		{Name: "payment", SpanCount: 2, SelfTimeNs: dur(230)},
		{Name: "bank", SpanCount: 1, SelfTimeNs: dur(700), Owner: "team-bank"},
	}
	if !reflect.DeepEqual(e.Services, wantSvcs) {
		t.Errorf("services = %+v", e.Services)
	}
	wantCalls := []CallEntry{{From: "checkout", To: "payment", Count: 1, TotalNs: dur(930)}, {From: "payment", To: "bank", Count: 1, TotalNs: dur(700)}}
	if !reflect.DeepEqual(e.Calls, wantCalls) {
		t.Errorf("calls = %+v", e.Calls)
	}
	if len(e.CriticalPath) != 6 || e.CriticalPath[0].SpanID != e.RootSpanID || e.CriticalPath[4] != (PathEntry{
		SpanID: sid("5").String(), Service: "bank", Name: "authorize", StartNs: int64(dur(40)), EndNs: int64(dur(740)),
		ContributionNs: dur(700), Depth: 4,
	}) {
		t.Errorf("critical path = %+v", e.CriticalPath)
	}
	if b := e.Bottleneck; b == nil || b.Service != "bank" || b.Name != "authorize" || b.CallerService != "payment" ||
		b.ContributionNs != dur(700) || b.Share != 0.7 {
		t.Errorf("bottleneck = %+v", e.Bottleneck)
	}
	if e.ErrorOrigin != nil || len(e.RecoveredErrors) != 0 {
		t.Errorf("errors = %+v %+v", e.ErrorOrigin, e.RecoveredErrors)
	}
	ab := e.Abnormal
	if ab.Verdict != "abnormal" || !strings.Contains(ab.Reason, "checkout GET /checkout took 1.0 s, above its p99 of 600 ms") {
		t.Errorf("verdict = %s: %s", ab.Verdict, ab.Reason)
	}
	if len(ab.Spans) != 2 || ab.Spans[0].Name != "authorize" || ab.Spans[0].Service != "bank" ||
		ab.Spans[0].BaselineP99Ns != int64(300*time.Millisecond) || ab.Spans[0].Percentile != 100 || !ab.Spans[0].OnCriticalPath ||
		ab.Spans[1].SpanID != e.RootSpanID {
		t.Errorf("abnormal spans = %+v", ab.Spans)
	}
	if p := e.Page; p == nil || p.Kind != "slow" || p.Service != "bank" || p.Owner != "team-bank" ||
		p.Contact != "#bank-oncall" || p.Runbook != "https://runbooks.example/bank" {
		t.Errorf("page = %+v", e.Page)
	}
	want := "checkout GET /checkout took 1.0 s, above its usual p99 of 600 ms; 70% of it was bank authorize (payment → bank). Page team-bank (#bank-oncall)."
	if e.Summary != want {
		t.Errorf("summary:\n got %s\nwant %s", e.Summary, want)
	}
	for _, q := range bl.queries {
		if q.Exclude != must(model.ParseTraceID(testTrace)) || q.Range != rangeOf(DefaultLookback) {
			t.Errorf("baseline query %+v", q)
		}
	}
}

// failingLeaf is slowLeaf where the bank times out and every caller fails.
func failingLeaf() *model.Trace {
	tr := slowLeaf()
	for _, s := range tr.Spans {
		switch s.Name {
		case "authorize":
			if s.Service() == "bank" {
				fail("deadline exceeded")(s)
				exception("TimeoutException", "bank did not answer")(s)
			} else {
				fail("bank error")(s)
			}
		case "POST /charge", "charge", "GET /checkout":
			fail("payment failed")(s)
		}
	}
	return tr
}

func TestExplainErrorAtLeaf(t *testing.T) {
	e := explain(t, failingLeaf(), nil)
	eo := e.ErrorOrigin
	if eo == nil || eo.Service != "bank" || eo.Name != "authorize" || eo.Message != "deadline exceeded" ||
		eo.ExceptionType != "TimeoutException" || !eo.ReachedRoot || len(eo.ErrorChain) != 4 ||
		eo.ErrorChain[0].Service != "payment" || eo.ErrorChain[3].SpanID != e.RootSpanID {
		t.Fatalf("error origin = %+v", eo)
	}
	if e.ErrorCount != 5 || e.Services[2].ErrorCount != 1 {
		t.Errorf("error counts %d %+v", e.ErrorCount, e.Services)
	}
	if p := e.Page; p.Kind != "error" || p.Owner != "team-bank" || !strings.Contains(p.Reason, "bank authorize: deadline exceeded") {
		t.Errorf("page = %+v", p)
	}
	if e.Abnormal.Verdict != "unknown" || e.Abnormal.Reason != "no baseline source is configured" {
		t.Errorf("abnormal = %+v", e.Abnormal)
	}
	want := "checkout GET /checkout took 1.0 s and failed; 70% of it was bank authorize (payment → bank), which failed (deadline exceeded). " +
		"The error started there and propagated up through 4 spans to the root. Page team-bank (#bank-oncall)."
	if e.Summary != want {
		t.Errorf("summary:\n got %s\nwant %s", e.Summary, want)
	}
}

func TestExplainRecoveredRetry(t *testing.T) {
	co, pay := res("checkout", "service.owner", "team-checkout"), res("payment")
	tr := trace(
		span("1", "", co, "GET /checkout", 0, 300, kind(model.KindServer)),
		span("2", "1", co, "charge", 10, 100, kind(model.KindClient), fail("timeout")),
		span("3", "2", pay, "POST /charge", 15, 90, kind(model.KindServer), fail("overloaded"), exception("Overloaded", "queue full")),
		span("4", "1", co, "charge", 120, 150, kind(model.KindClient)),
		span("5", "4", pay, "POST /charge", 125, 140, kind(model.KindServer)),
	)
	bl := shopBaselines()
	e := explain(t, tr, bl)
	if e.ErrorOrigin != nil {
		t.Errorf("a recovered error is reported as the origin: %+v", e.ErrorOrigin)
	}
	if len(e.RecoveredErrors) != 1 || e.RecoveredErrors[0] != (RecoveredError{
		SpanID: sid("2").String(), Service: "checkout", Name: "charge", Message: "timeout", RetriedBy: sid("4").String(),
	}) {
		t.Errorf("recovered = %+v", e.RecoveredErrors)
	}
	if e.Abnormal.Verdict != "normal" || !strings.Contains(e.Abnormal.Reason, "within its usual range (p50 400 ms, p99 600 ms over 240 spans in the last 24 h, faster than 100% of them)") {
		t.Errorf("abnormal = %+v", e.Abnormal)
	}
	if p := e.Page; p.Kind != "latency" || p.Service != "payment" {
		t.Errorf("page = %+v", p)
	}
	want := "checkout GET /checkout took 300 ms; 47% of it was payment POST /charge (checkout → payment). " +
		"1 failed attempt (checkout charge) was recovered by a retry; the request did not fail because of it. " +
		"Nothing failed and the latency is usual; no page."
	if e.Summary != want {
		t.Errorf("summary:\n got %s\nwant %s", e.Summary, want)
	}
}

func TestExplainAsyncTail(t *testing.T) {
	a, n := res("shop"), res("notify", "team", "team-notify")
	tr := trace(
		span("1", "", a, "POST /order", 0, 100, kind(model.KindServer)),
		span("2", "1", a, "publish", 10, 5, kind(model.KindProducer)),
		span("3", "2", n, "send email", 200, 800, kind(model.KindConsumer)),
	)
	e := explain(t, tr, nil)
	if e.DurationNs != dur(1000) || e.RootDurationNs != dur(100) {
		t.Errorf("durations %d %d", e.DurationNs, e.RootDurationNs)
	}
	if b := e.Bottleneck; b.Name != "send email" || b.ContributionNs != dur(985) {
		t.Errorf("bottleneck = %+v", b)
	}
	if !strings.Contains(strings.Join(e.Warnings, "\n"), "async work ran 900 ms past the root's end (until notify send email ended)") {
		t.Errorf("warnings = %q", e.Warnings)
	}
	if p := e.Page; p.Kind != "latency" || p.Owner != "team-notify" || p.OwnerSource != "resource attribute team" {
		t.Errorf("page = %+v", p)
	}
	if !strings.HasPrefix(e.Summary, "shop POST /order took 1.0 s end to end (the root span 100 ms, async work ran on); 98% of it was notify send email (shop → notify).") {
		t.Errorf("summary = %s", e.Summary)
	}
}

func TestExplainSkewedClock(t *testing.T) {
	e := explain(t, skewedClock(), nil)
	if !strings.Contains(strings.Join(e.Warnings, "\n"), "clock skew: 2 spans of payment") {
		t.Errorf("warnings = %q", e.Warnings)
	}
	if e.Bottleneck.Service != "bank" || e.Bottleneck.ContributionNs != dur(700) {
		t.Errorf("bottleneck = %+v", e.Bottleneck)
	}
	for _, p := range e.CriticalPath {
		if p.StartNs < 0 || p.EndNs > int64(e.DurationNs) {
			t.Errorf("path entry outside the trace after correction: %+v", p)
		}
	}
}

func TestExplainBaselineFailure(t *testing.T) {
	e := explain(t, slowLeaf(), &fakeBaselines{err: errors.New("storage down")})
	if e.Abnormal.Verdict != "unknown" || !strings.Contains(strings.Join(e.Warnings, "\n"), "baseline of checkout GET /checkout: storage down") {
		t.Errorf("verdict %s, warnings %q", e.Abnormal.Verdict, e.Warnings)
	}
	if !strings.Contains(e.Abnormal.Reason, "only 0 earlier spans of checkout GET /checkout in the last 24 h") {
		t.Errorf("reason = %s", e.Abnormal.Reason)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Explain(ctx, slowLeaf(), Options{Baselines: shopBaselines()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Explain(context.Background(), trace(), Options{}); !errors.Is(err, ErrEmptyTrace) {
		t.Errorf("empty trace: %v", err)
	}
}

func TestExplainNoOwner(t *testing.T) {
	tr := slowLeaf()
	e, err := Explain(context.Background(), tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Page.Owner != "" || !strings.Contains(e.Page.Reason, "no owner is known for bank") {
		t.Errorf("page = %+v", e.Page)
	}
	if !strings.HasSuffix(e.Summary, "Nothing failed, and there is too little history to call it slow; no page.") {
		t.Errorf("summary = %s", e.Summary)
	}
}

// TestExplainJSON pins the field names the issue fixes.
func TestExplainJSON(t *testing.T) {
	b, err := json.Marshal(explain(t, failingLeaf(), shopBaselines()))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(obj any, where string, keys ...string) {
		t.Helper()
		m, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T", where, obj)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", where, k)
			}
		}
	}
	has(doc, "document", "traceID", "rootService", "rootName", "durationNs", "spanCount", "services", "calls",
		"criticalPath", "bottleneck", "errorOrigin", "abnormal", "page", "summary", "recoveredErrors", "warnings")
	has(doc["services"].([]any)[0], "services[0]", "name", "spanCount", "errorCount", "selfTimeNs", "owner")
	has(doc["calls"].([]any)[0], "calls[0]", "from", "to", "count", "totalNs")
	has(doc["criticalPath"].([]any)[0], "criticalPath[0]", "spanID", "service", "name", "startNs", "endNs", "contributionNs")
	has(doc["bottleneck"], "bottleneck", "spanID", "service", "name", "contributionNs", "share")
	has(doc["errorOrigin"], "errorOrigin", "spanID", "service", "name", "message", "exceptionType", "errorChain")
	has(doc["abnormal"], "abnormal", "verdict", "spans", "baselines")
	has(doc["abnormal"].(map[string]any)["spans"].([]any)[0], "abnormal.spans[0]", "baselineP50Ns", "baselineP99Ns", "percentile")
	has(doc["page"], "page", "service", "owner", "contact", "runbook", "reason")
}

func TestExplainDoesNotModifySpans(t *testing.T) {
	tr := skewedClock()
	before := make([]model.Span, len(tr.Spans))
	for i, s := range tr.Spans {
		before[i] = *s
	}
	explain(t, tr, shopBaselines())
	for i, s := range tr.Spans {
		if !reflect.DeepEqual(*s, before[i]) {
			t.Errorf("span %s modified", s.Name)
		}
	}
}
