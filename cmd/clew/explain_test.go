package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	clewapi "github.com/clew-tracing/clew/internal/api/clew"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

const cliTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// cliSpans is checkout → payment → bank where the bank timed out after
// 800 ms; a span name carries a terminal escape sequence.
func cliSpans(t0 time.Time) []*model.Span {
	tid, _ := model.ParseTraceID(cliTrace)
	at := func(ms int) uint64 { return uint64(t0.Add(time.Duration(ms) * time.Millisecond).UnixNano()) }
	res := func(svc string, kv ...string) *model.Resource {
		r := &model.Resource{ServiceName: svc, Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue(svc)}}}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Attributes = append(r.Attributes, model.KeyValue{Key: kv[i], Value: model.StringValue(kv[i+1])})
		}
		return r
	}
	co, pay, bank := res("checkout"), res("payment"), res("bank", "service.owner", "team-bank", "oncall", "#bank-oncall")
	mk := func(id, parent string, r *model.Resource, name string, start, end int, failed string) *model.Span {
		s := &model.Span{TraceID: tid, Name: name, Resource: r, Kind: model.KindServer, StartUnixNano: at(start), EndUnixNano: at(end)}
		s.SpanID, _ = model.ParseSpanID(id)
		if parent != "" {
			s.ParentSpanID, _ = model.ParseSpanID(parent)
		}
		if failed != "" {
			s.StatusCode, s.StatusMessage = model.StatusError, failed
		}
		return s
	}
	return []*model.Span{
		mk("a1", "", co, "GET /checkout", 0, 1000, "payment failed"),
		mk("a2", "a1", pay, "POST /charge", 20, 980, "bank failed"),
		mk("a3", "a2", bank, "authorize", 40, 840, "deadline exceeded"),
		mk("a4", "a1", co, "render \x1b[31mred", 985, 995, ""),
	}
}

// startAPI serves /api/clew over a memstore holding cliSpans.
func startAPI(t *testing.T) string {
	t.Helper()
	st := memstore.New()
	now := time.Now()
	if err := st.Write(context.Background(), cliSpans(now.Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	q, err := query.New(st, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	clewapi.New(q, clewapi.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv.URL
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExplainCommand(t *testing.T) {
	url := startAPI(t)
	code, out, errs := runCLI(t, "explain", "--server", url, cliTrace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Trace " + cliTrace + ": checkout GET /checkout, 1.0 s, 4 spans, 3 services, 3 errors",
		"checkout GET /checkout took 1.0 s and failed; 80% of it was bank authorize (payment → bank), which failed (deadline exceeded).",
		"  bank      1      1       800 ms     team-bank",
		"  payment → bank",
		"Bottleneck    bank authorize (payment → bank): 800 ms on the critical path, 80% of 1.0 s",
		"Error origin  bank authorize (span 00000000000000a3): deadline exceeded",
		"propagated up through payment POST /charge ← checkout GET /checkout",
		"Abnormal      unknown: only 0 earlier spans of checkout GET /checkout in the last 24 h",
		"Page          team-bank (#bank-oncall) for bank [error]: the error started in bank authorize: deadline exceeded",
		"render \uFFFD[31mred",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a terminal escape from span data reached the output")
	}

	// --json (after the ID) prints the server's document.
	code, out, errs = runCLI(t, "explain", cliTrace, "--json", "--server", url, "--no-baselines")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errs)
	}
	var e analysis.Explanation
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if e.TraceID != cliTrace || e.ErrorOrigin == nil || e.ErrorOrigin.Service != "bank" || e.Page.Owner != "team-bank" {
		t.Errorf("--json document = %+v", e)
	}
}

func TestExplainCommandErrors(t *testing.T) {
	url := startAPI(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"explain"}, 2, "a trace ID is required"},
		{[]string{"explain", "a", "b"}, 2, "unexpected arguments: b"},
		{[]string{"explain", "--server", url, "00000000000000000000000000000fff"}, 1, "404 Not Found: trace not found"},
		{[]string{"explain", "--server", url, "xyz"}, 1, "400 Bad Request: malformed trace ID"},
		{[]string{"explain", "--server", "http://127.0.0.1:1", cliTrace}, 1, "cannot reach clew at http://127.0.0.1:1"},
		{[]string{"trace", "--server", url, "--width", "3", cliTrace}, 2, "--width"},
		{[]string{"trace"}, 2, "a trace ID is required"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	if code, _, _ := runCLI(t, "explain", "-h"); code != 0 {
		t.Errorf("explain -h: exit %d", code)
	}
}

func TestClientServerFromEnv(t *testing.T) {
	url := startAPI(t)
	t.Setenv("CLEW_SERVER", url)
	if code, _, errs := runCLI(t, "explain", "--no-baselines", cliTrace); code != 0 {
		t.Errorf("CLEW_SERVER: exit %d %s", code, errs)
	}
	// A flag beats the environment.
	if code, _, errs := runCLI(t, "explain", "--server", "http://127.0.0.1:1", cliTrace); code != 1 || !strings.Contains(errs, "127.0.0.1:1") {
		t.Errorf("--server over CLEW_SERVER: exit %d %s", code, errs)
	}
}

func TestServeOwnersFlag(t *testing.T) {
	cfg, _, _, err := parseServeFlags([]string{"--owners", "/etc/clew/owners.yaml"}, io.Discard)
	if err != nil || cfg.OwnersFile != "/etc/clew/owners.yaml" {
		t.Errorf("--owners: %q %v", cfg.OwnersFile, err)
	}
	t.Setenv("CLEW_OWNERS", "/from/env.yaml")
	if cfg, _, _, err := parseServeFlags(nil, io.Discard); err != nil || cfg.OwnersFile != "/from/env.yaml" {
		t.Errorf("CLEW_OWNERS: %q %v", cfg.OwnersFile, err)
	}
}
