package zipkin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/api/zipkin"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

var now = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) uint64 { return uint64(now.Add(d).UnixNano()) }

// micros is now+d in µs, as Zipkin writes times.
func micros(d time.Duration) uint64 { return at(d) / 1000 }

func ms(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Trace IDs of the fixture.
const (
	traceA = "4bf92f3577b34da6a3ce929d0e0e4736" // frontend → driver → redis, -10m
	traceB = "0000000000000abc"                 // 64-bit: frontend health check, -5m
	traceC = "0000000000000c0c"                 // driver alone, -3h
)

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

func num(k string, v int64) model.KeyValue { return model.KeyValue{Key: k, Value: model.IntValue(v)} }

func resource(service string, attrs ...model.KeyValue) *model.Resource {
	return &model.Resource{ServiceName: service, Attributes: append([]model.KeyValue{str("service.name", service)}, attrs...)}
}

func span(trace, id, parent string, r *model.Resource, name string, kind model.SpanKind, start, dur time.Duration, attrs ...model.KeyValue) *model.Span {
	s := &model.Span{
		TraceID: must(model.ParseTraceID(trace)), SpanID: must(model.ParseSpanID(id)),
		Name: name, Kind: kind, Resource: r,
		StartUnixNano: at(start), EndUnixNano: at(start + dur), Attributes: attrs,
	}
	if parent != "" {
		s.ParentSpanID = must(model.ParseSpanID(parent))
	}
	return s
}

// fixtureSpans stores what the Zipkin receiver (or an OTLP sender) would:
// endpoints as network attributes, the remote service as
// service.peer.name or peer.service.
func fixtureSpans() []*model.Span {
	frontend := resource("frontend", str("host.name", "h1"))
	driver := resource("driver")
	redis := resource("redis")
	a1 := span(traceA, "a1", "", frontend, "get /dispatch", model.KindServer, -10*time.Minute, 5*time.Millisecond,
		str("http.method", "GET"), str("network.peer.address", "10.1.2.3"), num("net.peer.port", 40000),
		str("network.local.address", "10.0.0.1"), num("net.host.port", 8080))
	a1.Scope = &model.Scope{Name: "zipkin-go", Version: "0.4"}
	a1.Events = []model.Event{
		{TimeUnixNano: at(-10*time.Minute + time.Millisecond), Name: "cache miss"},
		{TimeUnixNano: at(-10*time.Minute + 2*time.Millisecond), Name: "retry", Attributes: []model.KeyValue{num("attempt", 2)}},
	}
	a2 := span(traceA, "a2", "a1", driver, "findnearest", model.KindClient, -10*time.Minute+time.Millisecond, 2*time.Millisecond,
		str("service.peer.name", "redis"), str("server.address", "::1"), num("server.port", 6379))
	a2.StatusCode = model.StatusError
	a2.StatusMessage = "timeout"
	a3 := span(traceA, "a3", "a2", redis, "getdriver", model.KindServer, -10*time.Minute+1500*time.Microsecond, 500*time.Nanosecond)

	b1 := span(traceB, "b1", "", frontend, "get /health", model.KindServer, -5*time.Minute, time.Millisecond)
	b2 := span(traceB, "b2", "b1", frontend, "check", model.KindInternal, -5*time.Minute+100*time.Microsecond, 100*time.Microsecond)

	c1 := span(traceC, "c1", "", driver, "findnearest", model.KindClient, -3*time.Hour, 10*time.Millisecond,
		str("error", "connection refused"), str("peer.service", "postgres"))
	c1.StatusCode = model.StatusError
	return []*model.Span{a1, a2, a3, b1, b2, c1}
}

// newServer serves the Zipkin API over a memstore holding the fixture.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st := memstore.New()
	if err := st.Write(context.Background(), fixtureSpans()); err != nil {
		t.Fatal(err)
	}
	q, err := query.New(st, query.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	zipkin.New(q, zipkin.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

// get fetches path with params and returns the status and raw body.
func get(t *testing.T, srv *httptest.Server, path string, params ...string) (int, []byte) {
	t.Helper()
	if len(params) > 0 {
		v := url.Values{}
		for i := 0; i+1 < len(params); i += 2 {
			v.Add(params[i], params[i+1])
		}
		path += "?" + v.Encode()
	}
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, body
}

// getJSON fetches path, requires 200 and decodes the body.
func getJSON(t *testing.T, srv *httptest.Server, path string, params ...string) any {
	t.Helper()
	code, body := get(t, srv, path, params...)
	if code != http.StatusOK {
		t.Fatalf("GET %s %v: status %d: %s", path, params, code, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return v
}

// equal compares decoded JSON with want (built from JSON-like Go values).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	var wantJSON any
	if err := json.Unmarshal(must(json.Marshal(want)), &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("%s:\n got %s\nwant %s", what, must(json.MarshalIndent(got, "", " ")), must(json.MarshalIndent(wantJSON, "", " ")))
	}
}
