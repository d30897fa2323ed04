package ui_test

// The browser tests: a real Clew in this process, spans loaded over
// OTLP/HTTP JSON, and Debian's Chromium driven by playwright-core
// (e2e/run.mjs) through the UI. They skip when /usr/bin/chromium or
// ui/node_modules is missing, unless CLEW_REQUIRE_UI_TESTS=1 (scripts/test.sh
// sets it) makes that a failure. Screenshots go to $CLEW_ARTIFACTS, else
// ui/test-artifacts/ (gitignored).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/clew-tracing/clew/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
	)
}

const chromiumPath = "/usr/bin/chromium"

// requireBrowser returns node's path, or skips (fails under
// CLEW_REQUIRE_UI_TESTS=1) when the browser tests cannot run.
func requireBrowser(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(chromiumPath)
	}
	if err == nil {
		_, err = os.Stat("node_modules/playwright-core/package.json")
	}
	if err != nil {
		msg := fmt.Sprintf("browser tests cannot run (need node, %s and `npm ci` in ui/): %v", chromiumPath, err)
		if os.Getenv("CLEW_REQUIRE_UI_TESTS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("CLEW_ARTIFACTS")
	if dir == "" {
		dir = "test-artifacts"
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startClew runs a whole Clew on loopback ports with its data in a
// temporary directory, stopped when the test ends.
func startClew(t *testing.T) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.OTLPGRPCAddr = ""
	cfg.ZipkinAddr = ""
	cfg.OTLPHTTPAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	})
	return srv // New has bound the listeners: Addr is known
}

// send posts spans as OTLP/HTTP JSON, in batches under the body limit.
func send(t *testing.T, srv *server.Server, spans []tspan) {
	t.Helper()
	for len(spans) > 0 {
		n := min(len(spans), 2000)
		resp, err := http.Post("http://"+srv.Addr("otlp-http")+"/v1/traces", "application/json", bytes.NewReader(otlpJSON(spans[:n])))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("OTLP export: %d %s", resp.StatusCode, b)
		}
		spans = spans[n:]
	}
}

// result is one scenario's outcome, printed by run.mjs as "RESULT {json}".
type result struct {
	Name    string             `json:"name"`
	OK      bool               `json:"ok"`
	Error   string             `json:"error"`
	Log     []string           `json:"log"`
	Metrics map[string]float64 `json:"metrics"`
}

// runBrowser runs e2e/run.mjs against base with the given config and
// returns the scenarios' results.
func runBrowser(t *testing.T, node, base string, cfg map[string]any) []result {
	t.Helper()
	cfg["baseURL"] = base
	cfg["chromium"] = chromiumPath
	cfg["artifacts"] = artifactsDir(t)
	cfg["profileDir"] = t.TempDir()
	js, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/run.mjs")
	cmd.Env = append(os.Environ(), "CLEW_E2E="+string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var results []result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			var r result
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatalf("bad result line %q: %v", line, err)
			}
			results = append(results, r)
		} else if line != "" {
			t.Log(line)
		}
	}
	if err != nil && len(results) == 0 {
		t.Fatalf("e2e/run.mjs: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("e2e/run.mjs stderr:\n%s", stderr.String())
	}
	return results
}

func report(t *testing.T, results []result, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, r := range results {
		got[r.Name] = true
		t.Run(r.Name, func(t *testing.T) {
			for _, l := range r.Log {
				t.Log(l)
			}
			if !r.OK {
				t.Error(r.Error)
			}
		})
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("scenario %s did not report", w)
		}
	}
}

// TestBrowser walks through the UI as a person would: search, a failing
// trace with its critical path and error origin, every trace view, an
// upload, a comparison, the services page, the dark theme, and span data
// full of HTML that must show as text and run nothing.
func TestBrowser(t *testing.T) {
	node := requireBrowser(t)
	srv := startClew(t)
	now := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
	var all []tspan
	all = append(all, checkoutTrace(1, now, true, 0)...)
	all = append(all, checkoutTrace(2, now.Add(20*time.Second), false, 0)...)
	all = append(all, checkoutTrace(3, now.Add(40*time.Second), false, 300*time.Millisecond)...)
	all = append(all, hostileTrace(4, now.Add(60*time.Second))...)
	// Earlier, ordinary checkouts: the baselines that make trace 3 abnormal.
	for i := range 25 {
		all = append(all, checkoutTrace(100+i, now.Add(-30*time.Minute+time.Duration(i)*time.Second), false, 0)...)
	}
	send(t, srv, all)

	// Files to upload: a trace the server has never seen, as OTLP JSON and
	// as Jaeger JSON (from the server's own API v1, then re-keyed).
	dir := t.TempDir()
	otlpFile := filepath.Join(dir, "upload-otlp.json")
	if err := os.WriteFile(otlpFile, otlpJSON(checkoutTrace(10, now, true, 50*time.Millisecond)), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.Addr("http") + "/api/traces/" + traceID(2))
	if err != nil {
		t.Fatal(err)
	}
	jaeger, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	jaegerFile := filepath.Join(dir, "upload-jaeger.json")
	if err := os.WriteFile(jaegerFile, bytes.ReplaceAll(jaeger, []byte(traceID(2)), []byte(traceID(11))), 0o644); err != nil {
		t.Fatal(err)
	}

	results := runBrowser(t, node, "http://"+srv.Addr("http"), map[string]any{
		"scenarios": []string{"search", "trace", "abnormal", "views", "upload", "compare", "hostile", "services", "theme"},
		"failing":   traceID(1), "ok": traceID(2), "slow": traceID(3), "hostile": traceID(4),
		"hostileName": hostileName, "hostileService": hostileService,
		"otlpFile": otlpFile, "otlpTrace": traceID(10), "jaegerFile": jaegerFile, "jaegerTrace": traceID(11),
	})
	report(t, results, "search", "trace", "abnormal", "views", "upload", "compare", "hostile", "services", "theme")
}

// TestBrowserLargeTrace opens a 20,000-span trace and logs the time to the
// first rendered rows of its timeline. It measures; it asserts no bound.
//
//	go test ./ui -run TestBrowserLargeTrace -v
func TestBrowserLargeTrace(t *testing.T) {
	node := requireBrowser(t)
	srv := startClew(t)
	const count = 20000
	send(t, srv, largeTrace(20, count, time.Now().Add(-10*time.Minute).Truncate(time.Millisecond)))
	results := runBrowser(t, node, "http://"+srv.Addr("http"), map[string]any{
		"scenarios": []string{"large"}, "large": traceID(20), "largeCount": count,
	})
	report(t, results, "large")
	for _, r := range results {
		for _, k := range slices.Sorted(maps.Keys(r.Metrics)) {
			t.Logf("%s: %s = %.0f", r.Name, k, r.Metrics[k])
		}
	}
}

// TestServerMountsUI checks the UI's place on the HTTP listener: the app
// routes serve index.html with the Content-Security-Policy, and the API,
// health, metrics and pprof paths are not shadowed.
func TestServerMountsUI(t *testing.T) {
	srv := startClew(t)
	base := "http://" + srv.Addr("http")
	check := func(path string, status int, wantHTML bool) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, status)
		}
		isApp := strings.Contains(string(b), `<div id="app">`)
		if isApp != wantHTML {
			t.Errorf("GET %s: app page = %v, want %v", path, isApp, wantHTML)
		}
		if wantHTML && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no CSP", path)
		}
	}
	for _, p := range []string{"/", "/search", "/services", "/trace/abc", "/compare/a/b"} {
		check(p, 200, true)
	}
	check("/api/services", 200, false)
	check("/api/nope", 404, false)
	check("/healthz", 200, false)
	check("/readyz", 200, false)
	check("/metrics", 200, false)
	check("/debug/pprof/", 200, false)
	check("/favicon.svg", 200, false)
	check("/elsewhere", 404, false)
}
