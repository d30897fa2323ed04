package jaeger_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

type obj = map[string]any

// envelope checks a successful v1 envelope and returns its data.
func envelope(t *testing.T, code int, body obj, total int) any {
	t.Helper()
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	if body["total"] != float64(total) || body["limit"] != 0.0 || body["offset"] != 0.0 {
		t.Errorf("envelope total/limit/offset = %v/%v/%v, want %d/0/0", body["total"], body["limit"], body["offset"], total)
	}
	return body["data"]
}

// v1Error checks a failed v1 envelope.
func v1Error(t *testing.T, code int, body obj, want int) {
	t.Helper()
	if code != want {
		t.Errorf("status %d, want %d: %v", code, want, body)
	}
	if body["data"] != nil || body["total"] != 0.0 {
		t.Errorf("error envelope carries data: %v", body)
	}
	errs, _ := body["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors = %v", body["errors"])
	}
	e := errs[0].(obj)
	if e["code"] != float64(want) || e["msg"] == "" {
		t.Errorf("error entry %v, want code %d and a message", e, want)
	}
}

func traceIDs(data any) []string {
	var out []string
	for _, tr := range data.([]any) {
		out = append(out, tr.(obj)["traceID"].(string))
	}
	return out
}

func TestV1Services(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/services")
	equal(t, "services", envelope(t, code, body, 3), []string{"driver", "frontend", "redis"})
	if body["errors"] != nil {
		t.Errorf("errors = %v, want null", body["errors"])
	}

	code, body = get(t, srv, "/api/services/frontend/operations")
	equal(t, "frontend operations", envelope(t, code, body, 3), []string{"GET /dispatch", "GET /health", "check"})
	code, body = get(t, srv, "/api/services/nobody/operations")
	equal(t, "unknown service's operations", envelope(t, code, body, 0), []string{})
}

func TestV1Operations(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/operations", "service", "driver")
	equal(t, "driver operations", envelope(t, code, body, 2), []obj{
		{"name": "FindNearest", "spanKind": "internal"},
		{"name": "FindNearest", "spanKind": "client"},
	})
	code, body = get(t, srv, "/api/operations", "service", "driver", "spanKind", "client")
	equal(t, "driver client operations", envelope(t, code, body, 1), []obj{{"name": "FindNearest", "spanKind": "client"}})
	code, body = get(t, srv, "/api/operations", "spanKind", "server")
	equal(t, "every service's server operations", envelope(t, code, body, 3), []obj{
		{"name": "GET /dispatch", "spanKind": "server"},
		{"name": "GET /health", "spanKind": "server"},
		{"name": "GetDriver", "spanKind": "server"},
	})
	code, body = get(t, srv, "/api/operations", "service", "driver", "spanKind", "sideways")
	v1Error(t, code, body, http.StatusBadRequest)
}

func TestV1Search(t *testing.T) {
	srv := newServer(t)
	f := func(name string, want []string, params ...string) {
		t.Helper()
		code, body := get(t, srv, "/api/traces", params...)
		if code != http.StatusOK {
			t.Errorf("%s: status %d: %v", name, code, body)
			return
		}
		got := traceIDs(envelope(t, code, body, len(want)))
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("service, newest first", []string{traceB, traceA}, "service", "frontend")
	f("limit", []string{traceB}, "service", "frontend", "limit", "1")
	f("no service: every service in the default 2d", []string{traceB, traceA, traceC})
	f("no service, lookback 1h", []string{traceB, traceA}, "lookback", "1h")
	f("lookback in days", []string{traceB, traceA, traceC}, "lookback", "1d")
	f("start and end in µs", []string{traceC}, "start", us(-4*time.Hour), "end", us(-2*time.Hour))
	f("start only", []string{traceB}, "start", us(-6*time.Minute))
	f("operation", []string{traceA, traceC}, "operation", "FindNearest")
	f("service and operation on one span", nil, "service", "frontend", "operation", "FindNearest")
	f("tags JSON", []string{traceA}, "tags", `{"http.method":"GET"}`)
	f("tags JSON with a number", []string{traceA}, "tags", `{"http.status_code":200}`)
	f("tag k:v", []string{traceA}, "tag", "http.status_code:200")
	f("repeated tag", []string{traceA}, "tag", "http.method:GET", "tag", "retry:true")
	f("tag with a colon in the value", nil, "tag", "http.method:GET:x")
	// error=true matches a2's error status and c1's error attribute.
	f("error tag", []string{traceA, traceC}, "tags", `{"error":"true"}`)
	f("error tag and service", []string{traceC}, "service", "driver", "operation", "FindNearest", "tag", "customer:123", "tag", "error:true")
	f("span.kind tag", []string{traceA}, "service", "driver", "tag", "span.kind:client")
	f("span.kind tag, no match", nil, "service", "driver", "tag", "span.kind:server")
	f("otel.status_code tag", []string{traceA}, "tag", "otel.status_code:ERROR")
	f("process tag", []string{traceB, traceA}, "tag", "host.name:h1")
	// Service and tag must hold on one span: peer.service is on driver's.
	f("tag on another span", nil, "service", "frontend", "tags", `{"peer.service":"redis"}`)
	f("minDuration", []string{traceA}, "service", "frontend", "minDuration", "4ms")
	f("duration range", []string{traceA}, "service", "driver", "minDuration", "1.2ms", "maxDuration", "4500000ns")
	f("maxDuration", []string{traceB, traceA}, "maxDuration", "600us")
	f("minDuration in seconds", nil, "minDuration", "1s")
}

func TestV1SearchBadRequest(t *testing.T) {
	srv := newServer(t)
	for _, params := range [][]string{
		{"minDuration", "abc"},
		{"maxDuration", "-1ms"},
		{"minDuration", "2ms", "maxDuration", "1ms"},
		{"limit", "x"},
		{"limit", "-3"},
		{"limit", "100001"},
		{"start", "yesterday"},
		{"start", us(0), "end", us(-time.Hour)},
		{"lookback", "forever"},
		{"tags", `{"a":`},
		{"tags", `{"a":{"b":1}}`},
		{"tag", "novalue"},
		{"traceID", "xyz"},
	} {
		code, body := get(t, srv, "/api/traces", params...)
		v1Error(t, code, body, http.StatusBadRequest)
	}
}

func TestV1MultiGet(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/traces", "traceID", traceA, "traceID", "ABC", "traceID", "dead")
	data := envelope(t, code, body, 2)
	if got := traceIDs(data); !slices.Equal(got, []string{traceA, traceB}) {
		t.Errorf("traces %v", got)
	}
	equal(t, "errors", body["errors"], []obj{{"code": 404, "msg": "trace not found", "traceID": "0000000000000000000000000000dead"}})
}

func TestV1Trace(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/traces/"+traceA)
	data := envelope(t, code, body, 1).([]any)
	tr := data[0].(obj)
	frontend := obj{"serviceName": "frontend", "tags": []obj{{"key": "host.name", "type": "string", "value": "h1"}}}
	equal(t, "processes", tr["processes"], obj{
		"p1": frontend,
		"p2": obj{"serviceName": "driver", "tags": []obj{}},
		"p3": obj{"serviceName": "redis", "tags": []obj{}},
	})
	if tr["traceID"] != traceA || tr["warnings"] != nil {
		t.Errorf("trace header %v %v", tr["traceID"], tr["warnings"])
	}
	spans := tr["spans"].([]any)
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	equal(t, "span a1", spans[0], obj{
		"traceID":       traceA,
		"spanID":        "00000000000000a1",
		"flags":         1,
		"operationName": "GET /dispatch",
		"references":    []obj{{"refType": "FOLLOWS_FROM", "traceID": traceC, "spanID": "00000000000000c1"}},
		"startTime":     micros(-10 * time.Minute),
		"duration":      5000,
		"tags": []obj{
			{"key": "http.method", "type": "string", "value": "GET"},
			{"key": "http.status_code", "type": "int64", "value": 200},
			{"key": "retry", "type": "bool", "value": true},
			{"key": "ratio", "type": "float64", "value": 0.5},
			{"key": "payload", "type": "binary", "value": "AQID"},
			{"key": "list", "type": "string", "value": `["x",1]`},
			{"key": "otel.scope.name", "type": "string", "value": "io.opentelemetry.http"},
			{"key": "otel.library.name", "type": "string", "value": "io.opentelemetry.http"},
			{"key": "otel.scope.version", "type": "string", "value": "1.2"},
			{"key": "otel.library.version", "type": "string", "value": "1.2"},
			{"key": "span.kind", "type": "string", "value": "server"},
			{"key": "otel.status_code", "type": "string", "value": "OK"},
			{"key": "w3c.tracestate", "type": "string", "value": "vendor=1"},
		},
		"logs": []obj{{"timestamp": micros(-10*time.Minute + time.Millisecond), "fields": []obj{
			{"key": "event", "type": "string", "value": "cache miss"},
			{"key": "key", "type": "string", "value": "k1"},
		}}},
		"processID": "p1",
		"warnings":  nil,
	})
	equal(t, "span a2", spans[1], obj{
		"traceID":       traceA,
		"spanID":        "00000000000000a2",
		"flags":         0,
		"operationName": "FindNearest",
		"references":    []obj{{"refType": "CHILD_OF", "traceID": traceA, "spanID": "00000000000000a1"}},
		"startTime":     micros(-10*time.Minute + time.Millisecond),
		"duration":      2000,
		"tags": []obj{
			{"key": "peer.service", "type": "string", "value": "redis"},
			{"key": "span.kind", "type": "string", "value": "client"},
			{"key": "otel.status_code", "type": "string", "value": "ERROR"},
			{"key": "error", "type": "bool", "value": true},
			{"key": "otel.status_description", "type": "string", "value": "timeout"},
		},
		"logs":      []obj{},
		"processID": "p2",
		"warnings":  nil,
	})
	if s := spans[2].(obj); s["processID"] != "p3" || s["duration"] != 500.0 {
		t.Errorf("span a3: process %v duration %v", s["processID"], s["duration"])
	}
}

func TestV1TraceIDForms(t *testing.T) {
	srv := newServer(t)
	for _, id := range []string{"abc", "ABC", "0abc", traceB, "4BF92F3577B34DA6A3CE929D0E0E4736", "S%2FkvNXezTaajzpKdDg5HNg%3D%3D", "S_kvNXezTaajzpKdDg5HNg"} {
		code, body := get(t, srv, "/api/traces/"+id)
		if code != http.StatusOK {
			t.Errorf("%s: status %d", id, code)
			continue
		}
		if got := traceIDs(body["data"]); len(got) != 1 || (got[0] != traceA && got[0] != traceB) {
			t.Errorf("%s: got %v", id, got)
		}
	}
	// Two spans from equal resources share one process.
	_, body := get(t, srv, "/api/traces/abc")
	tr := body["data"].([]any)[0].(obj)
	if procs := tr["processes"].(obj); len(procs) != 1 {
		t.Errorf("trace b has %d processes, want 1", len(procs))
	}
	if s := tr["spans"].([]any)[1].(obj); s["processID"] != "p1" {
		t.Errorf("span b2 process %v", s["processID"])
	}

	code, body := get(t, srv, "/api/traces/dead")
	v1Error(t, code, body, http.StatusNotFound)
	for _, id := range []string{"xyz", "0", "123456789012345678901234567890123"} {
		code, body = get(t, srv, "/api/traces/"+id)
		v1Error(t, code, body, http.StatusBadRequest)
	}
	code, body = get(t, srv, "/api/traces/"+traceA, "start", "soon")
	v1Error(t, code, body, http.StatusBadRequest)
	code, _ = get(t, srv, "/api/traces/"+traceA, "start", us(-time.Hour), "end", us(0))
	if code != http.StatusOK {
		t.Errorf("with a hint: status %d", code)
	}
}

func TestV1Dependencies(t *testing.T) {
	srv := newServer(t)
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	code, body := get(t, srv, "/api/dependencies", "endTs", ms(0), "lookback", strconv.Itoa(int(time.Hour/time.Millisecond)))
	equal(t, "dependencies", envelope(t, code, body, 2), []obj{
		{"parent": "driver", "child": "redis", "callCount": 1},
		{"parent": "frontend", "child": "driver", "callCount": 1},
	})
	code, body = get(t, srv, "/api/dependencies")
	envelope(t, code, body, 2)
	code, body = get(t, srv, "/api/dependencies", "endTs", ms(-time.Hour))
	equal(t, "an earlier day", envelope(t, code, body, 0), []obj{})
	code, body = get(t, srv, "/api/dependencies", "endTs", "noon")
	v1Error(t, code, body, http.StatusBadRequest)
}
