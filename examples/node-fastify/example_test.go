// Package nodefastify tests the Node.js example: the Fastify app with the
// OpenTelemetry Node SDK, run against an in-process Clew. It needs node
// and the example's node_modules (npm ci); without them it skips, unless
// CLEW_REQUIRE_NODE_EXAMPLE=1 (scripts/test.sh sets it) makes that a
// failure.
package nodefastify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/clew-tracing/clew/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
	)
}

// requireNode skips (or fails, in CI) when the example cannot run.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat("node_modules/@opentelemetry/sdk-node")
	}
	if err != nil {
		msg := fmt.Sprintf("node example cannot run (install node and run npm ci in examples/node-fastify): %v", err)
		if os.Getenv("CLEW_REQUIRE_NODE_EXAMPLE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// TestFastifyExampleAgainstClew starts the app as its README says, with
// only OTEL_EXPORTER_OTLP_ENDPOINT pointing at Clew, calls / (which
// fetches an upstream) and /fibonacci/10, and checks the spans and their
// structure through the Jaeger API.
func TestFastifyExampleAgainstClew(t *testing.T) {
	node := requireNode(t)

	cfg := server.DefaultConfig()
	cfg.Storage, cfg.DataDir = "memory", t.TempDir()
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.ZipkinAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "", "127.0.0.1:0"
	clew, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clewCtx, stopClew := context.WithCancel(context.Background())
	clewDone := make(chan error, 1)
	go func() { clewDone <- clew.Run(clewCtx) }()
	defer func() {
		stopClew()
		if err := <-clewDone; err != nil {
			t.Error(err)
		}
	}()

	// The upstream that / fetches records the traceparent it is sent.
	var mu sync.Mutex
	var upstreamTraceparent string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamTraceparent = r.Header.Get("traceparent")
		mu.Unlock()
		fmt.Fprint(w, "hello from upstream")
	}))
	defer upstream.Close()

	app := exec.Command(node, "--require", "./instrumentation.js", "index.js")
	app.Env = append(os.Environ(),
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+clew.Addr("otlp-http"),
		"OTEL_SERVICE_NAME=",
		"UPSTREAM_URL="+upstream.URL+"/hello",
		"PORT=0", "HOST=127.0.0.1", "LOG_LEVEL=warn")
	stdout, err := app.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	app.Stderr = &stderr
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer app.Process.Kill()
	listening := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if t.Context().Err() == nil && testing.Verbose() {
				t.Log(sc.Text())
			}
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				listening <- addr
			}
		}
		exited <- app.Wait()
	}()
	var base string
	select {
	case base = <-listening:
	case err := <-exited:
		t.Fatalf("app exited (%v) before listening:\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("app did not start:\n%s", stderr.String())
	}

	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for path, want := range map[string]string{"/": "hello from upstream", "/fibonacci/10": `{"n":10,"result":55}`} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
	// SIGTERM: the SDK flushes its spans, then the app exits 0.
	app.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("app exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("app did not exit on SIGTERM")
	}

	api := "http://" + clew.Addr("http")
	fib := findTrace(t, client, api, "GET /fibonacci/:n")
	checkChain(t, fib, "fibonacci", "request", "GET /fibonacci/:n")
	f := fib.span("fibonacci")
	if f.tag("fibonacci.input") != "10" || f.tag("fibonacci.result") != "55" {
		t.Errorf("fibonacci span tags %v", f.Tags)
	}
	if r := fib.span("request"); r.tag("otel.scope.name") != "@fastify/otel" || r.tag("http.route") != "/fibonacci/:n" {
		t.Errorf("request span is not Fastify's: %v", r.Tags)
	}
	if s := fib.span("GET /fibonacci/:n"); s.tag("span.kind") != "server" {
		t.Errorf("root span kind %q", s.tag("span.kind"))
	}

	root := findTrace(t, client, api, "GET /")
	var fetch jspan
	for _, s := range root.Spans {
		if s.tag("span.kind") == "client" {
			fetch = s
		}
	}
	if fetch.SpanID == "" {
		t.Fatalf("no fetch client span in the / trace: %+v", root.Spans)
	}
	checkChain(t, root, fetch.OperationName, "request", "GET /")
	if fetch.tag("otel.scope.name") != "@opentelemetry/instrumentation-undici" || !strings.HasPrefix(fetch.tag("url.full"), upstream.URL) {
		t.Errorf("fetch span tags %v", fetch.Tags)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "00-" + root.TraceID + "-" + fetch.SpanID + "-01"; upstreamTraceparent != want {
		t.Errorf("upstream got traceparent %q, want %q", upstreamTraceparent, want)
	}
}

type (
	jspan struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct{ RefType, SpanID string }
		Tags          []struct {
			Key   string
			Value any
		}
	}
	jtrace struct {
		TraceID string `json:"traceID"`
		Spans   []jspan
	}
)

func (s jspan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (s jspan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (tr jtrace) span(name string) jspan {
	for _, s := range tr.Spans {
		if s.OperationName == name {
			return s
		}
	}
	return jspan{}
}

// checkChain checks that each named span is the child of the next and
// that the last is the trace's root.
func checkChain(t *testing.T, tr jtrace, names ...string) {
	t.Helper()
	for i, name := range names {
		s := tr.span(name)
		if s.SpanID == "" {
			t.Errorf("trace %s has no span %q", tr.TraceID, name)
			return
		}
		want := ""
		if i+1 < len(names) {
			want = tr.span(names[i+1]).SpanID
		}
		if s.parent() != want {
			t.Errorf("span %q: parent %q, want %q (%s)", name, s.parent(), want, strings.Join(names[i+1:], " → "))
		}
	}
}

// findTrace waits until Clew has the app's trace whose root operation is
// op.
func findTrace(t *testing.T, client *http.Client, api, op string) jtrace {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(api + "/api/traces?service=fibonacci-node&lookback=1h&limit=20&operation=" + strings.ReplaceAll(op, " ", "%20"))
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Data []jtrace }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range got.Data {
			if tr.span(op).parent() == "" && tr.span(op).SpanID != "" {
				return tr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trace of %s in Clew", op)
		}
		time.Sleep(100 * time.Millisecond) // waiting for the exporter, not timing it
	}
}
