package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/demo/faults"
	"github.com/clew-tracing/clew/demo/shop"
	"github.com/clew-tracing/clew/internal/server"
)

// TestShopAgainstClew runs the shop for a few seconds against an
// in-process Clew, faults forced high so that each occurs, and checks
// through the Jaeger API what the issue promises a new user will find.
func TestShopAgainstClew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole shop for several seconds")
	}
	api, stopClew := startClew(t)
	defer stopClew()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- shop.Run(ctx, shop.Options{
			OTLPEndpoint: "http://" + api.otlpHTTP, // OTLP/HTTP here; `clew serve --demo` uses gRPC
			Protocol:     "http/protobuf",
			Rate:         8,
			ThinkTime:    20 * time.Millisecond,
			Faults: faults.Set{
				faults.BankTimeout: 0.25, faults.Retry: 0.3, faults.SlowBank: 0.05,
				faults.NPlusOne: 0.5, faults.LargeTrace: 0.02,
			},
			Seed:   42,
			Logger: testLogger(t),
		})
	}()

	checks := []struct {
		name string
		fn   func(c *client) error
	}{
		{"at least 8 services", checkServices},
		{"a checkout trace crosses 5+ services", checkCrossing},
		{"a failed checkout's error originates at the bank", checkErrorOrigin},
		{"a retry of the busy bank recovers", checkRetry},
		{"shipping's consumer span links to the order's producer span", checkLinks},
		{"catalog shows the N+1 query pattern with db attributes", checkNPlusOne},
		{"a reindex makes a trace of thousands of spans", checkLargeTrace},
		{"resources carry version, environment and owner", checkResources},
	}
	c := &client{t: t, base: api.http}
	failing := map[string]error{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, ch := range checks {
			if err, seen := failing[ch.name]; seen && err == nil {
				continue // passed before
			}
			failing[ch.name] = ch.fn(c)
		}
		pending := 0
		for _, err := range failing {
			if err != nil {
				pending++
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond) // waiting for exporters, not timing anything
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("shop.Run: %v", err)
	}
	for _, ch := range checks {
		if err := failing[ch.name]; err != nil {
			t.Errorf("%s: %v", ch.name, err)
		}
	}
}

type clewAddrs struct{ http, otlpHTTP string }

// startClew runs an in-memory Clew on free loopback ports.
func startClew(t *testing.T) (clewAddrs, func()) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Storage = "memory"
	cfg.DataDir = t.TempDir()
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.ZipkinAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "", "127.0.0.1:0"
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	return clewAddrs{http: "http://" + srv.Addr("http"), otlpHTTP: srv.Addr("otlp-http")}, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("clew: %v", err)
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// The Jaeger API's trace model, as much as the checks read.
type (
	kv struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	span struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []kv `json:"tags"`
		Logs []struct {
			Fields []kv `json:"fields"`
		} `json:"logs"`
		ProcessID string `json:"processID"`
	}
	jtrace struct {
		TraceID   string `json:"traceID"`
		Spans     []span `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
			Tags        []kv   `json:"tags"`
		} `json:"processes"`
	}
)

func (s span) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (s span) failed() bool { return s.tag("error") == "true" }

func (s span) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (tr jtrace) service(s span) string { return tr.Processes[s.ProcessID].ServiceName }

func (tr jtrace) services() []string {
	var out []string
	for _, s := range tr.Spans {
		if n := tr.service(s); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// root returns the span without a parent in the trace.
func (tr jtrace) root() (span, bool) {
	for _, s := range tr.Spans {
		if s.parent() == "" {
			return s, true
		}
	}
	return span{}, false
}

// depth is the number of ancestors of s in the trace.
func (tr jtrace) depth(s span) int {
	byID := map[string]span{}
	for _, x := range tr.Spans {
		byID[x.SpanID] = x
	}
	d := 0
	for p := s.parent(); p != ""; p = byID[p].parent() {
		if _, ok := byID[p]; !ok {
			break
		}
		d++
	}
	return d
}

// errorOrigin is the deepest span with an error: where the error started.
func (tr jtrace) errorOrigin() (span, bool) {
	var best span
	found := false
	for _, s := range tr.Spans {
		if s.failed() && (!found || tr.depth(s) > tr.depth(best)) {
			best, found = s, true
		}
	}
	return best, found
}

// client queries the Jaeger API.
type client struct {
	t    *testing.T
	base string
}

func (c *client) get(path string, into any) error {
	resp, err := http.Get(c.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, into)
}

// traces searches /api/traces.
func (c *client) traces(q url.Values) ([]jtrace, error) {
	q.Set("lookback", "1h")
	var out struct{ Data []jtrace }
	err := c.get("/api/traces?"+q.Encode(), &out)
	return out.Data, err
}

func checkServices(c *client) error {
	var out struct{ Data []string }
	if err := c.get("/api/services", &out); err != nil {
		return err
	}
	for _, want := range shop.ServiceNames() {
		if !slices.Contains(out.Data, want) {
			return fmt.Errorf("services %v lack %s", out.Data, want)
		}
	}
	if len(out.Data) < 8 {
		return fmt.Errorf("%d services", len(out.Data))
	}
	return nil
}

func checkCrossing(c *client) error {
	trs, err := c.traces(url.Values{"service": {"frontend"}, "operation": {"POST /api/checkout"}, "limit": {"20"}})
	if err != nil {
		return err
	}
	best := 0
	for _, tr := range trs {
		if n := len(tr.services()); n >= 5 {
			return nil
		} else if n > best {
			best = n
		}
	}
	return fmt.Errorf("%d checkout traces, the widest crosses %d services", len(trs), best)
}

func checkErrorOrigin(c *client) error {
	trs, err := c.traces(url.Values{"service": {"frontend"}, "operation": {"POST /api/checkout"}, "tags": {`{"error":"true"}`}, "limit": {"20"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		root, ok := tr.root()
		origin, failed := tr.errorOrigin()
		if !ok || !root.failed() || !failed || tr.service(origin) != "bank" {
			continue
		}
		// The origin records the exception, with its message.
		for _, l := range origin.Logs {
			var event, msg string
			for _, f := range l.Fields {
				switch f.Key {
				case "event":
					event = fmt.Sprint(f.Value)
				case "exception.message":
					msg = fmt.Sprint(f.Value)
				}
			}
			if event == "exception" && strings.Contains(msg, "did not answer") {
				return nil
			}
		}
		return fmt.Errorf("bank error span %q has no exception event: %+v", origin.OperationName, origin.Logs)
	}
	return fmt.Errorf("none of %d failed checkouts has its deepest error at the bank", len(trs))
}

func checkRetry(c *client) error {
	trs, err := c.traces(url.Values{"service": {"payment"}, "operation": {"charge card"}, "tags": {`{"payment.attempts":"2"}`}, "limit": {"20"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		root, ok := tr.root()
		origin, failed := tr.errorOrigin()
		if ok && !root.failed() && failed && tr.service(origin) == "bank" {
			return nil
		}
	}
	return fmt.Errorf("none of %d retried payments recovered with a bank error inside", len(trs))
}

func checkLinks(c *client) error {
	trs, err := c.traces(url.Values{"service": {"shipping"}, "operation": {"process shipments"}, "limit": {"5"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		for _, s := range tr.Spans {
			for _, r := range s.References {
				if r.RefType != "FOLLOWS_FROM" || r.TraceID == s.TraceID {
					continue
				}
				var linked struct{ Data []jtrace }
				if err := c.get("/api/traces/"+r.TraceID, &linked); err != nil {
					continue // the order's trace may not be exported yet
				}
				for _, ltr := range linked.Data {
					for _, p := range ltr.Spans {
						if p.SpanID == r.SpanID && p.OperationName == "publish shipments" && ltr.service(p) == "orders" &&
							p.tag("span.kind") == "producer" && s.tag("span.kind") == "consumer" {
							return nil
						}
					}
				}
			}
		}
	}
	return fmt.Errorf("no consumer span of %d traces links to a producer span in orders", len(trs))
}

func checkNPlusOne(c *client) error {
	trs, err := c.traces(url.Values{"service": {"catalog"}, "tags": {`{"catalog.reviews.strategy":"per-product"}`}, "limit": {"5"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		n := 0
		for _, s := range tr.Spans {
			if s.tag("db.system") == "postgresql" && strings.HasPrefix(s.tag("db.statement"), "SELECT avg(rating)") {
				n++
			}
		}
		if n >= 5 {
			return nil
		}
	}
	return fmt.Errorf("no N+1 pattern in %d traces", len(trs))
}

func checkLargeTrace(c *client) error {
	trs, err := c.traces(url.Values{"service": {"search"}, "operation": {"POST /reindex"}, "limit": {"1"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		if len(tr.Spans) >= 3000 {
			return nil
		}
		return fmt.Errorf("reindex trace has %d spans", len(tr.Spans))
	}
	return fmt.Errorf("no reindex trace")
}

func checkResources(c *client) error {
	trs, err := c.traces(url.Values{"service": {"bank"}, "limit": {"1"}})
	if err != nil {
		return err
	}
	for _, tr := range trs {
		for _, p := range tr.Processes {
			if p.ServiceName != "bank" {
				continue
			}
			tags := map[string]string{}
			for _, t := range p.Tags {
				tags[t.Key] = fmt.Sprint(t.Value)
			}
			if tags["service.owner"] != "external-card-network" || tags["deployment.environment"] != "demo" || tags["service.version"] == "" {
				return fmt.Errorf("bank's process tags: %v", tags)
			}
			return nil
		}
	}
	return fmt.Errorf("no bank trace")
}
