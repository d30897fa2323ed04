package jaeger_test

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

	"github.com/clew-tracing/clew/internal/api/jaeger"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

var now = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) uint64 { return uint64(now.Add(d).UnixNano()) }

// micros is now+d in µs, as v1 parameters and the UI model write times.
func micros(d time.Duration) float64 { return float64(at(d) / 1000) }

func us(d time.Duration) string { return strconv.FormatUint(at(d)/1000, 10) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Trace IDs of the fixture.
const (
	traceA = "4bf92f3577b34da6a3ce929d0e0e4736" // frontend → driver → redis, -10m
	traceB = "00000000000000000000000000000abc" // frontend health check, -5m
	traceC = "00000000000000000000000000000c0c" // driver alone, -3h
)

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

func resource(service string, attrs ...model.KeyValue) *model.Resource {
	return &model.Resource{ServiceName: service, Attributes: append([]model.KeyValue{str("service.name", service)}, attrs...)}
}

func span(trace, id, parent string, r *model.Resource, name string, kind model.SpanKind, start, dur time.Duration, attrs ...model.KeyValue) *model.Span {
	s := &model.Span{
		TraceID: must(model.ParseTraceID(trace)), SpanID: must(model.ParseSpanID(id)),
		Name: name, Kind: kind, Resource: r, Scope: &model.Scope{},
		StartUnixNano: at(start), EndUnixNano: at(start + dur), Attributes: attrs,
	}
	if parent != "" {
		s.ParentSpanID = must(model.ParseSpanID(parent))
	}
	return s
}

// fixtureSpans builds the three traces. Span a1 carries every kind of
// attribute value, an event and a link; a2 failed.
func fixtureSpans() []*model.Span {
	frontend := resource("frontend", str("host.name", "h1"))
	driver := resource("driver")
	redis := resource("redis")
	a1 := span(traceA, "00000000000000a1", "", frontend, "GET /dispatch", model.KindServer, -10*time.Minute, 5*time.Millisecond,
		str("http.method", "GET"),
		model.KeyValue{Key: "http.status_code", Value: model.IntValue(200)},
		model.KeyValue{Key: "retry", Value: model.BoolValue(true)},
		model.KeyValue{Key: "ratio", Value: model.DoubleValue(0.5)},
		model.KeyValue{Key: "payload", Value: model.BytesValue([]byte{1, 2, 3})},
		model.KeyValue{Key: "list", Value: model.Value{Type: model.TypeArray, Array: []model.Value{model.StringValue("x"), model.IntValue(1)}}},
	)
	a1.Scope = &model.Scope{Name: "io.opentelemetry.http", Version: "1.2"}
	a1.StatusCode = model.StatusOK
	a1.Flags = 1
	a1.TraceState = "vendor=1"
	a1.Events = []model.Event{{TimeUnixNano: at(-10*time.Minute + time.Millisecond), Name: "cache miss", Attributes: []model.KeyValue{str("key", "k1")}}}
	a1.Links = []model.Link{{TraceID: must(model.ParseTraceID(traceC)), SpanID: must(model.ParseSpanID("c1"))}}

	a2 := span(traceA, "00000000000000a2", "a1", driver, "FindNearest", model.KindClient, -10*time.Minute+time.Millisecond, 2*time.Millisecond,
		str("peer.service", "redis"))
	a2.StatusCode = model.StatusError
	a2.StatusMessage = "timeout"

	a3 := span(traceA, "00000000000000a3", "a2", redis, "GetDriver", model.KindServer, -10*time.Minute+1500*time.Microsecond, 500*time.Microsecond)

	// Two resources with equal content: one process in the UI model.
	b1 := span(traceB, "b1", "", resource("frontend", str("host.name", "h1")), "GET /health", model.KindServer, -5*time.Minute, time.Millisecond)
	b2 := span(traceB, "b2", "b1", resource("frontend", str("host.name", "h1")), "check", model.KindInternal, -5*time.Minute+100*time.Microsecond, 100*time.Microsecond)

	c1 := span(traceC, "c1", "", driver, "FindNearest", model.KindInternal, -3*time.Hour, 10*time.Millisecond,
		model.KeyValue{Key: "error", Value: model.BoolValue(true)}, str("customer", "123"))
	return []*model.Span{a1, a2, a3, b1, b2, c1}
}

// newServer serves the Jaeger API over a memstore holding the fixture.
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
	jaeger.New(q, jaeger.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

// get fetches path and decodes its JSON body.
func get(t *testing.T, srv *httptest.Server, path string, params ...string) (int, map[string]any) {
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
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return resp.StatusCode, m
}

// equal compares decoded JSON with want (built from JSON-like Go values).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	w := must(json.Marshal(want))
	var wantJSON any
	if err := json.Unmarshal(w, &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantJSON) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, must(json.MarshalIndent(wantJSON, "", " ")))
	}
}
