package zipkin_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type obj = map[string]any

// traceIDs returns the trace ID of each trace of a [[Span]] answer.
func traceIDs(v any) []string {
	var out []string
	for _, tr := range v.([]any) {
		out = append(out, tr.([]any)[0].(obj)["traceId"].(string))
	}
	return out
}

func TestCatalog(t *testing.T) {
	srv := newServer(t)
	equal(t, "services", getJSON(t, srv, "/api/v2/services"), []string{"driver", "frontend", "redis"})
	equal(t, "spans", getJSON(t, srv, "/api/v2/spans", "serviceName", "frontend"), []string{"check", "get /dispatch", "get /health"})
	equal(t, "spans of nobody", getJSON(t, srv, "/api/v2/spans", "serviceName", "nobody"), []string{})
	equal(t, "remote services", getJSON(t, srv, "/api/v2/remoteServices", "serviceName", "driver"), []string{"postgres", "redis"})
	equal(t, "no remote services", getJSON(t, srv, "/api/v2/remoteServices", "serviceName", "redis"), []string{})
	for _, p := range []string{"/api/v2/spans", "/api/v2/remoteServices", "/api/v2/autocompleteValues"} {
		if code, _ := get(t, srv, p); code != http.StatusBadRequest {
			t.Errorf("%s without its parameter: status %d", p, code)
		}
	}

	keys := getJSON(t, srv, "/api/v2/autocompleteKeys").([]any)
	for _, k := range []string{"http.method", "peer.service", "error"} {
		if !slices.Contains(keys, any(k)) {
			t.Errorf("autocompleteKeys %v lacks %s", keys, k)
		}
	}
	equal(t, "autocompleteValues", getJSON(t, srv, "/api/v2/autocompleteValues", "key", "http.method"), []string{"GET"})
	equal(t, "autocompleteValues of an unknown key", getJSON(t, srv, "/api/v2/autocompleteValues", "key", "nope"), []string{})
}

func TestSearch(t *testing.T) {
	srv := newServer(t)
	f := func(name string, want []string, params ...string) {
		t.Helper()
		got := traceIDs(getJSON(t, srv, "/api/v2/traces", params...))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("default: last day, every service, newest first", []string{traceB, traceA, traceC})
	f("service", []string{traceB, traceA}, "serviceName", "frontend")
	f("limit", []string{traceB}, "serviceName", "frontend", "limit", "1")
	f("span name", []string{traceA}, "spanName", "getdriver")
	f("span name all", []string{traceB, traceA}, "serviceName", "frontend", "spanName", "all")
	f("remote service (service.peer.name)", []string{traceA}, "remoteServiceName", "redis")
	f("remote service (peer.service)", []string{traceC}, "serviceName", "driver", "remoteServiceName", "postgres")
	f("remote service of another span", nil, "serviceName", "frontend", "remoteServiceName", "redis")
	f("annotationQuery tag", []string{traceA}, "annotationQuery", "http.method=GET")
	f("annotationQuery error", []string{traceA, traceC}, "annotationQuery", "error")
	f("annotationQuery error message", []string{traceC}, "annotationQuery", "error=connection refused")
	f("annotationQuery terms on one span", []string{traceC}, "annotationQuery", "error and peer.service=postgres")
	f("annotationQuery terms on different spans", nil, "annotationQuery", "error and http.method=GET")
	f("minDuration µs", []string{traceA, traceC}, "minDuration", "4000")
	f("duration range", []string{traceA}, "minDuration", "1500", "maxDuration", "2500")
	f("endTs and lookback", []string{traceC}, "endTs", ms(-2*time.Hour), "lookback", strconv.Itoa(int(2*time.Hour/time.Millisecond)))
	f("short lookback", []string{traceB}, "lookback", strconv.Itoa(int(6*time.Minute/time.Millisecond)))

	for _, params := range [][]string{
		{"minDuration", "1ms"},
		{"maxDuration", "-1"},
		{"minDuration", "10", "maxDuration", "5"},
		{"endTs", "now"},
		{"lookback", "1d"},
		{"limit", "lots"},
	} {
		if code, body := get(t, srv, "/api/v2/traces", params...); code != http.StatusBadRequest {
			t.Errorf("%v: status %d: %s", params, code, body)
		}
	}
}

func TestTrace(t *testing.T) {
	srv := newServer(t)
	spans := getJSON(t, srv, "/api/v2/trace/"+traceA).([]any)
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	equal(t, "span a1", spans[0], obj{
		"traceId":        traceA,
		"id":             "00000000000000a1",
		"kind":           "SERVER",
		"name":           "get /dispatch",
		"timestamp":      micros(-10 * time.Minute),
		"duration":       5000,
		"localEndpoint":  obj{"serviceName": "frontend", "ipv4": "10.0.0.1", "port": 8080},
		"remoteEndpoint": obj{"ipv4": "10.1.2.3", "port": 40000},
		"annotations": []obj{
			{"timestamp": micros(-10*time.Minute + time.Millisecond), "value": "cache miss"},
			{"timestamp": micros(-10*time.Minute + 2*time.Millisecond), "value": `retry|{"attempt":2}|0`},
		},
		"tags": obj{
			"host.name":          "h1",
			"http.method":        "GET",
			"otel.scope.name":    "zipkin-go",
			"otel.scope.version": "0.4",
		},
	})
	equal(t, "span a2", spans[1], obj{
		"traceId":        traceA,
		"parentId":       "00000000000000a1",
		"id":             "00000000000000a2",
		"kind":           "CLIENT",
		"name":           "findnearest",
		"timestamp":      micros(-10*time.Minute + time.Millisecond),
		"duration":       2000,
		"localEndpoint":  obj{"serviceName": "driver"},
		"remoteEndpoint": obj{"serviceName": "redis", "ipv6": "::1", "port": 6379},
		"tags": obj{
			"error":                   "timeout",
			"otel.status_code":        "ERROR",
			"otel.status_description": "timeout",
		},
	})
	// Sub-µs spans still have a duration; Zipkin reads 0 as unknown.
	if a3 := spans[2].(obj); a3["duration"] != 1.0 || a3["remoteEndpoint"] != nil {
		t.Errorf("span a3: duration %v, remote %v", a3["duration"], a3["remoteEndpoint"])
	}

	// A 64-bit trace ID is written in 16 digits and found in any form.
	for _, id := range []string{traceB, "abc", "ABC", "00000000000000000000000000000abc"} {
		spans := getJSON(t, srv, "/api/v2/trace/"+id).([]any)
		b2 := spans[1].(obj)
		equal(t, "span b2 ("+id+")", b2, obj{
			"traceId":       traceB,
			"parentId":      "00000000000000b1",
			"id":            "00000000000000b2",
			"name":          "check",
			"timestamp":     micros(-5*time.Minute + 100*time.Microsecond),
			"duration":      100,
			"localEndpoint": obj{"serviceName": "frontend"},
			"tags":          obj{"host.name": "h1", "span.kind": "internal"},
		})
	}
	// The error tag a span carries wins over its status message.
	c1 := getJSON(t, srv, "/api/v2/trace/c0c").([]any)[0].(obj)
	equal(t, "span c1 tags", c1["tags"], obj{"error": "connection refused", "otel.status_code": "ERROR"})
	equal(t, "span c1 remote", c1["remoteEndpoint"], obj{"serviceName": "postgres"})

	code, body := get(t, srv, "/api/v2/trace/dead")
	if code != http.StatusNotFound || !strings.Contains(string(body), "not found") {
		t.Errorf("unknown trace: %d %s", code, body)
	}
	for _, id := range []string{"xyz", "0", strings.Repeat("a", 33)} {
		if code, _ := get(t, srv, "/api/v2/trace/"+id); code != http.StatusBadRequest {
			t.Errorf("trace %s: status %d", id, code)
		}
	}
}

func TestTraceMany(t *testing.T) {
	srv := newServer(t)
	got := traceIDs(getJSON(t, srv, "/api/v2/traceMany", "traceIds", "ABC,"+traceA+",dead"))
	if !slices.Equal(got, []string{traceB, traceA}) {
		t.Errorf("got %v", got)
	}
	for _, ids := range []string{"", ",", "abc,xyz"} {
		if code, _ := get(t, srv, "/api/v2/traceMany", "traceIds", ids); code != http.StatusBadRequest {
			t.Errorf("traceIds=%q: status %d", ids, code)
		}
	}
}

func TestDependencies(t *testing.T) {
	srv := newServer(t)
	equal(t, "dependencies", getJSON(t, srv, "/api/v2/dependencies", "endTs", ms(0), "lookback", "3600000"), []obj{
		{"parent": "driver", "child": "redis", "callCount": 1, "errorCount": 0},
		{"parent": "frontend", "child": "driver", "callCount": 1, "errorCount": 1},
	})
	if n := len(getJSON(t, srv, "/api/v2/dependencies").([]any)); n != 2 {
		t.Errorf("default window: %d dependencies, want 2", n)
	}
	equal(t, "an earlier window", getJSON(t, srv, "/api/v2/dependencies", "endTs", ms(-time.Hour), "lookback", "60000"), []obj{})
	if code, _ := get(t, srv, "/api/v2/dependencies", "endTs", "x"); code != http.StatusBadRequest {
		t.Errorf("bad endTs: status %d", code)
	}
}
