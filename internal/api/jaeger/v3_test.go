package jaeger_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

func rfc3339(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }

// v3Error checks api_v3's error body.
func v3Error(t *testing.T, code int, body obj, want int) {
	t.Helper()
	if code != want {
		t.Errorf("status %d, want %d: %v", code, want, body)
	}
	e, _ := body["error"].(obj)
	if e == nil || e["httpCode"] != float64(want) || e["message"] == "" {
		t.Errorf("error body %v, want httpCode %d and a message", body, want)
	}
}

// otlpSpans returns the spans of an OTLP JSON result, with their service.
func otlpSpans(t *testing.T, body obj) (spans []obj, services []string) {
	t.Helper()
	result, _ := body["result"].(obj)
	if result == nil {
		t.Fatalf("no result in %v", body)
	}
	for _, rs := range result["resourceSpans"].([]any) {
		rs := rs.(obj)
		svc := ""
		for _, a := range rs["resource"].(obj)["attributes"].([]any) {
			if a := a.(obj); a["key"] == "service.name" {
				svc = a["value"].(obj)["stringValue"].(string)
			}
		}
		for _, ss := range rs["scopeSpans"].([]any) {
			for _, s := range ss.(obj)["spans"].([]any) {
				spans = append(spans, s.(obj))
				services = append(services, svc)
			}
		}
	}
	return spans, services
}

func TestV3Catalog(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v3/services")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	equal(t, "services", body, obj{"services": []string{"driver", "frontend", "redis"}})

	code, body = get(t, srv, "/api/v3/operations", "service", "driver")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	equal(t, "operations", body, obj{"operations": []obj{
		{"name": "FindNearest", "spanKind": "internal"},
		{"name": "FindNearest", "spanKind": "client"},
	}})
	_, body = get(t, srv, "/api/v3/operations", "service", "driver", "span_kind", "client")
	equal(t, "operations by kind", body, obj{"operations": []obj{{"name": "FindNearest", "spanKind": "client"}}})
	_, body = get(t, srv, "/api/v3/operations", "service", "nobody")
	equal(t, "no operations", body, obj{"operations": []obj{}})
	code, body = get(t, srv, "/api/v3/operations", "spanKind", "x")
	v3Error(t, code, body, http.StatusBadRequest)
}

func TestV3Trace(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v3/traces/"+traceA)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	spans, services := otlpSpans(t, body)
	if !slices.Equal(services, []string{"frontend", "driver", "redis"}) {
		t.Errorf("services %v", services)
	}
	a1, a2 := spans[0], spans[1]
	if a1["traceId"] != traceA || a1["spanId"] != "00000000000000a1" || a1["name"] != "GET /dispatch" {
		t.Errorf("span a1 ids/name: %v %v %v", a1["traceId"], a1["spanId"], a1["name"])
	}
	// Enums are integers, as in Jaeger's api_v3.
	if a1["kind"] != 2.0 || a2["kind"] != 3.0 {
		t.Errorf("kinds %v %v, want 2 and 3", a1["kind"], a2["kind"])
	}
	equal(t, "a2 status", a2["status"], obj{"code": 2, "message": "timeout"})
	if a2["parentSpanId"] != "00000000000000a1" {
		t.Errorf("a2 parent %v", a2["parentSpanId"])
	}
	if a1["startTimeUnixNano"] != formatInt(int64(at(-10*time.Minute))) {
		t.Errorf("a1 start %v", a1["startTimeUnixNano"])
	}

	code, _ = get(t, srv, "/api/v3/traces/ABC", "startTime", rfc3339(-time.Hour), "end_time", rfc3339(0))
	if code != http.StatusOK {
		t.Errorf("short ID with a hint: status %d", code)
	}
	code, body = get(t, srv, "/api/v3/traces/dead")
	v3Error(t, code, body, http.StatusNotFound)
	code, body = get(t, srv, "/api/v3/traces/nothex")
	v3Error(t, code, body, http.StatusBadRequest)
	code, body = get(t, srv, "/api/v3/traces/abc", "startTime", "yesterday")
	v3Error(t, code, body, http.StatusBadRequest)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func TestV3Search(t *testing.T) {
	srv := newServer(t)
	window := []string{"query.start_time_min", rfc3339(-time.Hour), "query.start_time_max", rfc3339(0)}
	f := func(name string, want []string, params ...string) {
		t.Helper()
		code, body := get(t, srv, "/api/v3/traces", append(slices.Clone(window), params...)...)
		if code != http.StatusOK {
			t.Errorf("%s: status %d: %v", name, code, body)
			return
		}
		spans, _ := otlpSpans(t, body)
		var got []string
		for _, s := range spans {
			if id := s["traceId"].(string); !slices.Contains(got, id) {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("no service", []string{traceB, traceA})
	f("snake_case service", []string{traceA}, "query.service_name", "driver")
	f("camelCase service and operation", []string{traceA}, "query.serviceName", "redis", "query.operationName", "GetDriver")
	f("attributes", []string{traceA}, "query.attributes", `{"http.method":"GET"}`)
	f("error attribute", []string{traceA}, "query.attributes", `{"error":"true"}`)
	f("duration", []string{traceA}, "query.durationMin", "4ms", "query.duration_max", "1s")
	f("search depth", []string{traceB}, "query.searchDepth", "1")
	f("wider window", []string{traceB, traceA, traceC}, "query.startTimeMin", rfc3339(-24*time.Hour))

	code, body := get(t, srv, "/api/v3/traces", append(slices.Clone(window), "query.service_name", "nobody")...)
	v3Error(t, code, body, http.StatusNotFound)

	for _, params := range [][]string{
		{},
		{"query.start_time_min", rfc3339(-time.Hour)},
		{"query.startTimeMax", rfc3339(0)},
		{"query.start_time_min", "an hour ago", "query.start_time_max", rfc3339(0)},
		{"query.start_time_min", rfc3339(0), "query.start_time_max", rfc3339(-time.Hour)},
		append(slices.Clone(window), "query.duration_min", "fast"),
		append(slices.Clone(window), "query.searchDepth", "many"),
		append(slices.Clone(window), "query.attributes", "[1]"),
	} {
		code, body := get(t, srv, "/api/v3/traces", params...)
		v3Error(t, code, body, http.StatusBadRequest)
		code, body = get(t, srv, "/api/v3/trace-summaries", params...)
		v3Error(t, code, body, http.StatusBadRequest)
	}
}

func TestV3TraceSummaries(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v3/trace-summaries",
		"query.startTimeMin", rfc3339(-time.Hour), "query.startTimeMax", rfc3339(0))
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	equal(t, "summaries", body, obj{"summaries": []obj{
		{
			"traceId": traceB, "rootServiceName": "frontend", "rootOperationName": "GET /health",
			"minStartTimeUnixNano": formatInt(int64(at(-5 * time.Minute))),
			"maxEndTimeUnixNano":   formatInt(int64(at(-5*time.Minute + time.Millisecond))),
			"spanCount":            2, "errorSpanCount": 0,
			"services": []obj{{"name": "frontend", "spanCount": 2, "errorSpanCount": 0}},
		},
		{
			"traceId": traceA, "rootServiceName": "frontend", "rootOperationName": "GET /dispatch",
			"minStartTimeUnixNano": formatInt(int64(at(-10 * time.Minute))),
			"maxEndTimeUnixNano":   formatInt(int64(at(-10*time.Minute + 5*time.Millisecond))),
			"spanCount":            3, "errorSpanCount": 1,
			"services": []obj{
				{"name": "frontend", "spanCount": 1, "errorSpanCount": 0},
				{"name": "driver", "spanCount": 1, "errorSpanCount": 1},
				{"name": "redis", "spanCount": 1, "errorSpanCount": 0},
			},
		},
	}})

	_, body = get(t, srv, "/api/v3/trace-summaries",
		"query.startTimeMin", rfc3339(-time.Hour), "query.startTimeMax", rfc3339(0), "query.serviceName", "nobody")
	equal(t, "no match", body, obj{"summaries": []obj{}})
}
