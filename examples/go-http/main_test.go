package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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

// TestExampleAgainstClew runs the example against an in-process Clew, the
// exporter configured only by OTEL_EXPORTER_OTLP_ENDPOINT as the README
// says, sends a request that carries a traceparent, and checks the spans
// Clew stored: the server span continues the caller's trace, and the
// fibonacci span is its child with the input and result attributes.
func TestExampleAgainstClew(t *testing.T) {
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
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+clew.Addr("otlp-http"))
	t.Setenv("OTEL_SERVICE_NAME", "")

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, lis) }()

	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", "http://"+lis.Addr().String()+"/fibonacci/10", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 || string(body) != "{\"n\":10,\"result\":55}\n" {
		t.Fatalf("GET /fibonacci/10: %d %q", resp.StatusCode, body)
	}
	stop() // the example flushes its spans as it stops
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	var got struct {
		Data []struct {
			Spans []struct {
				SpanID        string `json:"spanID"`
				OperationName string `json:"operationName"`
				References    []struct{ RefType, SpanID string }
				Tags          []struct {
					Key   string
					Value any
				}
				ProcessID string `json:"processID"`
			}
			Processes map[string]struct{ ServiceName string }
		}
	}
	if err := getJSON("http://"+clew.Addr("http")+"/api/traces/"+traceID, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 || len(got.Data[0].Spans) != 2 {
		t.Fatalf("trace %s: %+v", traceID, got)
	}
	tr := got.Data[0]
	spans := map[string]int{}
	for i, s := range tr.Spans {
		spans[s.OperationName] = i
		if svc := tr.Processes[s.ProcessID].ServiceName; svc != "fibonacci-go" {
			t.Errorf("span %s: service %q", s.OperationName, svc)
		}
	}
	srvIdx, ok1 := spans["GET /fibonacci/{n}"]
	fibIdx, ok2 := spans["fibonacci"]
	if !ok1 || !ok2 {
		t.Fatalf("span names %v", spans)
	}
	srv, fib := tr.Spans[srvIdx], tr.Spans[fibIdx]
	tags := func(i int) map[string]string {
		m := map[string]string{}
		for _, tg := range tr.Spans[i].Tags {
			m[tg.Key] = fmt.Sprint(tg.Value)
		}
		return m
	}
	if len(srv.References) != 1 || srv.References[0].SpanID != callerSpan {
		t.Errorf("server span references %+v, want CHILD_OF the caller %s", srv.References, callerSpan)
	}
	if st := tags(srvIdx); st["span.kind"] != "server" || st["url.path"] != "/fibonacci/10" {
		t.Errorf("server span tags %v", st)
	}
	if len(fib.References) != 1 || fib.References[0].RefType != "CHILD_OF" || fib.References[0].SpanID != srv.SpanID {
		t.Errorf("fibonacci references %+v, want CHILD_OF %s", fib.References, srv.SpanID)
	}
	if ft := tags(fibIdx); ft["fibonacci.input"] != "10" || ft["fibonacci.result"] != "55" {
		t.Errorf("fibonacci tags %v", ft)
	}
}

func getJSON(url string, into any) error {
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
