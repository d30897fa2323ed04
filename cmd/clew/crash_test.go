package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildClew compiles the binary once per test run.
func buildClew(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clew")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// proc is a running `clew serve`.
type proc struct {
	cmd   *exec.Cmd
	addrs map[string]string
	exit  chan error
}

var listenRe = regexp.MustCompile(`msg=listening listener=(\S+) addr=(\S+)`)

// startClew runs the binary on dataDir with every listener on a free port
// and waits until it has said where it listens.
func startClew(t *testing.T, bin, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--otlp-grpc-addr", "127.0.0.1:0",
		"--otlp-http-addr", "127.0.0.1:0", "--zipkin-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addrs: map[string]string{}, exit: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			if testing.Verbose() {
				t.Log(line)
			}
			if m := listenRe.FindStringSubmatch(line); m != nil {
				p.addrs[m[1]] = m[2]
			}
			if strings.Contains(line, "clew started") {
				once.Do(func() { close(ready) })
			}
		}
		p.exit <- cmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-p.exit:
		t.Fatalf("clew exited before starting: %v", err)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("clew did not start")
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// TestCrashKeepsAcknowledgedSpans sends spans continuously, SIGKILLs the
// server mid-stream, restarts it on the same directory, and checks that
// every span whose export was acknowledged is there, complete.
func TestCrashKeepsAcknowledgedSpans(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildClew(t)
	dir := t.TempDir()
	p := startClew(t, bin, dir)
	url := "http://" + p.addrs["otlp-http"] + "/v1/traces"

	const spansPerTrace = 5
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				traceID := fmt.Sprintf("%08x%08x%016x", w+1, i, time.Now().UnixNano())
				body := crashBatch(traceID, spansPerTrace)
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					return // the server is gone: this export was not acknowledged
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, traceID)
					mu.Unlock()
				}
			}
		}()
	}
	// Let some exports be acknowledged, then kill without warning.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exit
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no export was acknowledged before the kill")
	}

	p2 := startClew(t, bin, dir)
	api := "http://" + p2.addrs["http"]
	for _, id := range acked {
		resp, err := http.Get(api + "/api/traces/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Data []struct {
				Spans []json.RawMessage `json:"spans"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if len(got.Data) != 1 || len(got.Data[0].Spans) != spansPerTrace {
			t.Errorf("acknowledged trace %s: %+v", id, got)
		}
	}
	t.Logf("%d acknowledged traces all found after SIGKILL", len(acked))

	// A graceful stop exits 0.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p2.exit; err != nil {
		t.Errorf("SIGTERM: exit %v", err)
	}
}

func crashBatch(traceID string, n int) string {
	now := time.Now().Add(-time.Second).UnixNano()
	var spans []string
	for i := 1; i <= n; i++ {
		parent := ""
		if i > 1 {
			parent = fmt.Sprintf("%016x", 1)
		}
		spans = append(spans, fmt.Sprintf(`{"traceId":%q,"spanId":"%016x","parentSpanId":%q,"name":"op-%d","startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[{"key":"i","value":{"intValue":"%d"}}]}`,
			traceID, i, parent, i, now, now+int64(i)*1000, i))
	}
	return `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"crash"}}]},"scopeSpans":[{"spans":[` +
		strings.Join(spans, ",") + `]}]}]}`
}
