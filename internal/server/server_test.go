package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The OTel SDK and grpc keep a few process-wide goroutines.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
	)
}

// testServer is a whole Clew on free loopback ports.
type testServer struct {
	t      *testing.T
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	dir    string
}

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.OTLPGRPCAddr = "127.0.0.1:0"
	cfg.OTLPHTTPAddr = "127.0.0.1:0"
	cfg.ZipkinAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	return cfg
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{t: t, srv: srv, cancel: cancel, done: make(chan error, 1), dir: cfg.DataDir}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() { ts.stop() })
	return ts
}

// stop shuts the server down gracefully and waits for it; idempotent.
func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	if err := <-ts.done; err != nil {
		ts.t.Errorf("server stopped with error: %v", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (ts *testServer) url(listener, path string) string {
	return "http://" + ts.srv.Addr(listener) + path
}

// getJSON fetches a URL and decodes its JSON body, checking the status.
func getJSON(t *testing.T, url string, wantStatus int, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	}
}

// post sends a body and returns status and response body.
func post(t *testing.T, url, contentType string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jaegerTraces is the envelope of /api/traces responses.
type jaegerTraces struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			TraceID       string `json:"traceID"`
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"`
			Duration  int64 `json:"duration"`
			Tags      []struct {
				Key   string `json:"key"`
				Type  string `json:"type"`
				Value any    `json:"value"`
			} `json:"tags"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

// waitFor polls cond until it holds or the deadline passes. Only used to
// wait for asynchronous exporters, never to assert speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ts := startServer(t, testConfig(t.TempDir()))
	getJSON(t, ts.url("http", "/healthz"), 200, nil)
	var ready map[string]any
	getJSON(t, ts.url("http", "/readyz"), 200, &ready)
	if ready["status"] != "ready" {
		t.Errorf("readyz = %v", ready)
	}
	resp, err := http.Get(ts.url("http", "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"go_goroutines", "clew_storage_bytes"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestDisabledListener(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.ZipkinAddr = ""
	cfg.OTLPGRPCAddr = ""
	ts := startServer(t, cfg)
	if a := ts.srv.Addr("zipkin"); a != "" {
		t.Errorf("zipkin listener enabled at %s", a)
	}
	if a := ts.srv.Addr("otlp-grpc"); a != "" {
		t.Errorf("grpc listener enabled at %s", a)
	}
	getJSON(t, ts.url("http", "/healthz"), 200, nil)
}

func ExampleServer() {
	cfg := DefaultConfig()
	cfg.DataDir = "/tmp/clew-example"
	cfg.Storage = "memory"
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.ZipkinAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "", "127.0.0.1:0"
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()
	cancel()
	fmt.Println(<-done)
	// Output: <nil>
}
