package tempo_test

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

	"github.com/clew-tracing/clew/internal/api/tempo"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) uint64 { return uint64(now.Add(d).UnixNano()) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Trace IDs of the fixture.
const (
	traceA = "4bf92f3577b34da6a3ce929d0e0e4736" // frontend GET /cart → api → db (error), -10m
	traceB = "00000000000000000000000000000abc" // frontend GET /health, -5m
	traceC = "00000000000000000000000000000c0c" // api without its root, -3h
)

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

func resource(service string, attrs ...model.KeyValue) *model.Resource {
	return &model.Resource{ServiceName: service, Attributes: append([]model.KeyValue{str("service.name", service)}, attrs...)}
}

func span(trace, id, parent string, r *model.Resource, name string, kind model.SpanKind, start, dur time.Duration, attrs ...model.KeyValue) *model.Span {
	s := &model.Span{
		TraceID: must(model.ParseTraceID(trace)), SpanID: must(model.ParseSpanID(id)),
		Name: name, Kind: kind, Resource: r, Scope: &model.Scope{Name: "lib"},
		StartUnixNano: at(start), EndUnixNano: at(start + dur), Attributes: attrs,
	}
	if parent != "" {
		s.ParentSpanID = must(model.ParseSpanID(parent))
	}
	return s
}

func fixtureSpans() []*model.Span {
	fe, api, db := resource("frontend", str("env", "prod")), resource("api"), resource("db")
	a1 := span(traceA, "a1", "", fe, "GET /cart", model.KindServer, -10*time.Minute, 120*time.Millisecond,
		str("http.method", "GET"), model.KeyValue{Key: "http.status_code", Value: model.IntValue(500)})
	a2 := span(traceA, "a2", "a1", api, "load", model.KindServer, -10*time.Minute+time.Millisecond, 100*time.Millisecond,
		str("http.method", "GET"))
	a3 := span(traceA, "a3", "a2", db, "SELECT", model.KindClient, -10*time.Minute+2*time.Millisecond, 90*time.Millisecond,
		model.KeyValue{Key: "db.rows", Value: model.IntValue(3)})
	a3.StatusCode, a3.StatusMessage = model.StatusError, "timeout"
	a4 := span(traceA, "a4", "a2", db, "SELECT", model.KindClient, -10*time.Minute+3*time.Millisecond, 2*time.Millisecond,
		model.KeyValue{Key: "db.rows", Value: model.IntValue(7)})
	b1 := span(traceB, "b1", "", fe, "GET /health", model.KindServer, -5*time.Minute, 500*time.Microsecond,
		str("http.method", "GET"), model.KeyValue{Key: "http.status_code", Value: model.IntValue(200)})
	c1 := span(traceC, "c1", "c0", api, "load", model.KindServer, -3*time.Hour, 10*time.Millisecond)
	return []*model.Span{a1, a2, a3, a4, b1, c1}
}

// newServer serves the Tempo API over a memstore holding the fixture.
func newServer(t *testing.T, opts tempo.Options) (*httptest.Server, *tempo.API) {
	t.Helper()
	st := memstore.New()
	if err := st.Write(context.Background(), fixtureSpans()); err != nil {
		t.Fatal(err)
	}
	q, err := query.New(st, query.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	api, err := tempo.New(q, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	mux.HandleFunc("GET /api/traces/{traceID}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jaeger":true}`))
	})
	srv := httptest.NewServer(api.TraceByIDMiddleware(mux))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv, api
}

// get fetches path with params (pairs) and headers, returning status,
// content type and body.
func get(t *testing.T, srv *httptest.Server, path string, header http.Header, params ...string) (int, string, []byte) {
	t.Helper()
	if len(params) > 0 {
		v := url.Values{}
		for i := 0; i+1 < len(params); i += 2 {
			v.Add(params[i], params[i+1])
		}
		path += "?" + v.Encode()
	}
	req := must(http.NewRequest(http.MethodGet, srv.URL+path, nil))
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := must(io.ReadAll(resp.Body))
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON fetches path, expects 200 and JSON, and decodes it generically.
func getJSON(t *testing.T, srv *httptest.Server, path string, params ...string) any {
	t.Helper()
	code, ct, body := get(t, srv, path, nil, params...)
	if code != http.StatusOK || ct != "application/json" {
		t.Fatalf("GET %s %v: %d %s: %s", path, params, code, ct, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return v
}

// equal compares decoded JSON with want (JSON-like Go values).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	var wantJSON any
	if err := json.Unmarshal(must(json.Marshal(want)), &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantJSON) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(wantJSON, "", " ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// ns renders now+d as Tempo's string nanoseconds.
func ns(d time.Duration) string { return strconv.FormatUint(at(d), 10) }

// secs renders now+d as Unix seconds.
func secs(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }

type obj = map[string]any
type arr = []any

func sv(s string) obj { return obj{"stringValue": s} }
func iv(i int64) obj  { return obj{"intValue": strconv.FormatInt(i, 10)} }

func toJSON(v any) string { return string(must(json.Marshal(v))) }
