package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clew-tracing/clew/demo/faults"
	"github.com/clew-tracing/clew/internal/server"
)

// TestServeDemo runs the binary as a new user would, `clew serve --demo`,
// until the shop's traces are queryable, then stops it with SIGTERM and
// expects the shop to stop before the server and the exit code to be 0.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildClew(t)
	cmd := exec.Command(bin, "serve", "--demo", "--demo-rate", "6", "--demo-faults", "bank-timeout=0.3,retry=0.3",
		"--data-dir", t.TempDir(), "--otlp-grpc-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0",
		"--zipkin-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	lines := startLogged(t, cmd)
	api := "http://" + lines.waitFor(t, `listener=http addr=`)

	waitUntil(t, "the demo's services and a checkout across 5+ services", func() bool {
		var svcs struct{ Data []string }
		if getJSONQuiet(api+"/api/services", &svcs) != nil || len(svcs.Data) < 8 {
			return false
		}
		var trs struct {
			Data []struct {
				Processes map[string]struct{ ServiceName string } `json:"processes"`
			}
		}
		if getJSONQuiet(api+"/api/traces?service=frontend&operation=POST%20/api/checkout&limit=10&lookback=1h", &trs) != nil {
			return false
		}
		for _, tr := range trs.Data {
			names := map[string]bool{}
			for _, p := range tr.Processes {
				names[p.ServiceName] = true
			}
			if len(names) >= 5 {
				return true
			}
		}
		return false
	})

	cmd.Process.Signal(syscall.SIGTERM)
	if err := lines.wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, lines.text())
	}
	log := lines.text()
	shopStopped := strings.Index(log, "demo shop stopped")
	clewStopped := strings.Index(log, "clew stopped")
	if shopStopped < 0 || clewStopped < shopStopped {
		t.Errorf("want the shop to stop before the server:\n%s", log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("errors logged:\n%s", log)
	}
}

// TestDemoCommand runs `clew demo` in-process against an in-process Clew
// over OTLP/HTTP, as it would run against any OTLP backend.
func TestDemoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo shop")
	}
	cfg := server.DefaultConfig()
	cfg.Storage, cfg.DataDir = "memory", t.TempDir()
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.ZipkinAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "", "127.0.0.1:0"
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	defer func() {
		stopServer()
		if err := <-srvDone; err != nil {
			t.Error(err)
		}
	}()

	ctx, stop := context.WithCancel(context.Background())
	code := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		code <- run(ctx, []string{"demo", "--otlp-endpoint", "http://" + srv.Addr("otlp-http"),
			"--otlp-protocol", "http/protobuf", "--rate", "5", "--faults", "none", "--environment", "ci"}, io.Discard, &stderr)
	}()
	api := "http://" + srv.Addr("http")
	waitUntil(t, "8 services", func() bool {
		var svcs struct{ Data []string }
		return getJSONQuiet(api+"/api/services", &svcs) == nil && len(svcs.Data) >= 8
	})
	stop()
	if c := <-code; c != 0 {
		t.Fatalf("clew demo exited %d:\n%s", c, stderr.String())
	}
	var trs struct {
		Data []struct {
			Processes map[string]struct {
				Tags []struct {
					Key   string
					Value any
				}
			}
		}
	}
	if err := getJSONQuiet(api+"/api/traces?service=frontend&limit=1&lookback=1h", &trs); err != nil || len(trs.Data) == 0 {
		t.Fatalf("no frontend trace: %v", err)
	}
	found := false
	for _, p := range trs.Data[0].Processes {
		for _, tg := range p.Tags {
			if tg.Key == "deployment.environment" && tg.Value == "ci" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("--environment did not reach the resources: %+v", trs.Data[0].Processes)
	}
}

func TestDemoFlags(t *testing.T) {
	t.Setenv("CLEW_RATE", "7.5")
	opts, _, err := parseDemoFlags([]string{"--faults", "retry=0.5,slow-bank", "--otlp-endpoint", "collector:4317"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Rate != 7.5 || opts.OTLPEndpoint != "collector:4317" || opts.Environment != "demo" {
		t.Errorf("options %+v", opts)
	}
	if opts.Faults.String() != "slow-bank=0.05,retry=0.5" {
		t.Errorf("faults %s", opts.Faults)
	}
	for _, bad := range [][]string{
		{"--faults", "meteor"}, {"--rate", "-1"}, {"--otlp-protocol", "carrier-pigeon"}, {"extra"},
	} {
		if _, _, err := parseDemoFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}

	_, _, demo, err := parseServeFlags(nil, io.Discard)
	if err != nil || demo != nil {
		t.Errorf("serve without --demo: %v %v", demo, err)
	}
	t.Setenv("CLEW_DEMO", "true")
	_, _, demo, err = parseServeFlags([]string{"--demo-faults", "none", "--demo-rate", "3"}, io.Discard)
	if err != nil || demo == nil || demo.Rate != 3 || len(demo.Faults) != 0 {
		t.Errorf("serve with CLEW_DEMO=true: %+v %v", demo, err)
	}
	if _, _, _, err := parseServeFlags([]string{"--demo-faults", "meteor"}, io.Discard); err == nil {
		t.Error("bad --demo-faults accepted")
	}
	if !slices.Contains(faultNames(), string(faults.NPlusOne)) {
		t.Errorf("fault names %v", faultNames())
	}
}

func TestReachable(t *testing.T) {
	for in, want := range map[string]string{
		"[::]:4317":      "[::1]:4317",
		"0.0.0.0:4317":   "127.0.0.1:4317",
		":4317":          "127.0.0.1:4317",
		"127.0.0.1:4317": "127.0.0.1:4317",
		"10.1.2.3:4317":  "10.1.2.3:4317",
	} {
		if got := reachable(in); got != want {
			t.Errorf("reachable(%q) = %q, want %q", in, got, want)
		}
	}
}

// logged is a process whose stderr lines are kept.
type logged struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
	exit  chan error
}

// startLogged starts cmd and collects its stderr.
func startLogged(t *testing.T, cmd *exec.Cmd) *logged {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &logged{added: make(chan struct{}, 1), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if testing.Verbose() {
				t.Log(sc.Text())
			}
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			l.mu.Unlock()
			select {
			case l.added <- struct{}{}:
			default:
			}
		}
		l.exit <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return l
}

// waitFor returns what follows marker on the first line that has it, up
// to the next space.
func (l *logged) waitFor(t *testing.T, marker string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if _, rest, ok := strings.Cut(line, marker); ok {
				l.mu.Unlock()
				v, _, _ := strings.Cut(rest, " ")
				return v
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case err := <-l.exit:
			t.Fatalf("exited (%v) before logging %q:\n%s", err, marker, l.text())
		case <-timeout:
			t.Fatalf("no %q logged:\n%s", marker, l.text())
		}
	}
}

func (l *logged) wait() error {
	select {
	case err := <-l.exit:
		return err
	case <-time.After(60 * time.Second):
		return fmt.Errorf("did not exit")
	}
}

func (l *logged) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitUntil polls cond until it holds, failing after a minute. It waits
// for exporters and servers, and never asserts how fast they are.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSONQuiet(url string, into any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// syncBuffer is a strings.Builder safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
