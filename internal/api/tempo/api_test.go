package tempo_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/api/tempo"
	"github.com/clew-tracing/clew/internal/traceql/engine"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

func TestEchoAndBuildInfo(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{Version: "1.2.3"})
	code, ct, body := get(t, srv, "/api/echo", nil)
	if code != 200 || string(body) != "echo" || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("echo: %d %s %q", code, ct, body)
	}
	bi := getJSON(t, srv, "/api/status/buildinfo").(obj)
	if bi["version"] != tempo.CompatibleVersion || bi["revision"] != "clew-1.2.3" || bi["goVersion"] == "" {
		t.Errorf("buildinfo: %v", bi)
	}
	for _, k := range []string{"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} {
		if _, ok := bi[k]; !ok {
			t.Errorf("buildinfo lacks %s", k)
		}
	}
}

// TestSearch checks the search response field by field, as Grafana's Tempo
// data source reads it.
func TestSearch(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	got := getJSON(t, srv, "/api/search",
		"q", `{ resource.service.name = "frontend" && span.http.method = "GET" }`,
		"start", secs(-time.Hour), "end", secs(0), "limit", "20", "spss", "3").(obj)
	metrics := got["metrics"].(obj)
	if b := metrics["inspectedBytes"].(string); b == "" || b == "0" {
		t.Errorf("inspectedBytes = %q", b)
	}
	delete(metrics, "inspectedBytes")
	frontendSpan := func(id, name string, start time.Duration, dur string) obj {
		return obj{"spanID": id, "name": name, "startTimeUnixNano": ns(start), "durationNanos": dur,
			"attributes": arr{obj{"key": "service.name", "value": sv("frontend")}, obj{"key": "http.method", "value": sv("GET")}}}
	}
	setB := obj{"spans": arr{frontendSpan("00000000000000b1", "GET /health", -5*time.Minute, "500000")}, "matched": 1}
	setA := obj{"spans": arr{frontendSpan("00000000000000a1", "GET /cart", -10*time.Minute, "120000000")}, "matched": 1}
	equal(t, "search", got, obj{
		"traces": arr{
			obj{
				"traceID": traceB, "rootServiceName": "frontend", "rootTraceName": "GET /health",
				"startTimeUnixNano": ns(-5 * time.Minute),
				"spanSet":           setB, "spanSets": arr{setB},
				"serviceStats": obj{"frontend": obj{"spanCount": 1}},
			},
			obj{
				"traceID": traceA, "rootServiceName": "frontend", "rootTraceName": "GET /cart",
				"startTimeUnixNano": ns(-10 * time.Minute), "durationMs": 120,
				"spanSet": setA, "spanSets": arr{setA},
				"serviceStats": obj{"frontend": obj{"spanCount": 1}, "api": obj{"spanCount": 1}, "db": obj{"spanCount": 2, "errorCount": 1}},
			},
		},
		"metrics": obj{"inspectedTraces": 2, "inspectedSpans": "5", "totalBlocks": 0, "completedJobs": 1, "totalJobs": 1},
	})
}

func TestSearchSpansetsAndSelect(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	// spss=1 keeps the first span of each spanset; matched counts them all.
	got := getJSON(t, srv, "/api/search", "q", `{ resource.service.name = "db" } | select(span.db.rows, status)`, "spss", "1").(obj)
	traces := got["traces"].(arr)
	if len(traces) != 1 {
		t.Fatalf("got %d traces: %v", len(traces), got)
	}
	set := obj{"matched": 2, "spans": arr{obj{
		"spanID": "00000000000000a3", "name": "SELECT", "startTimeUnixNano": ns(-10*time.Minute + 2*time.Millisecond), "durationNanos": "90000000",
		"attributes": arr{
			obj{"key": "service.name", "value": sv("db")},
			obj{"key": "db.rows", "value": iv(3)},
			obj{"key": "status", "value": sv("error")},
		},
	}}}
	equal(t, "spanSets", traces[0].(obj)["spanSets"], arr{set})

	// by() makes one spanset per value and names it.
	got = getJSON(t, srv, "/api/search", "q", `{ trace:id = "`+traceA+`" } | by(resource.service.name) | count() > 0`, "spss", "0").(obj)
	sets := got["traces"].(arr)[0].(obj)["spanSets"].(arr)
	if len(sets) != 3 {
		t.Fatalf("got %d spansets: %v", len(sets), sets)
	}
	equal(t, "db spanset attributes", sets[2].(obj)["attributes"], arr{
		obj{"key": "by(resource.service.name)", "value": sv("db")},
		obj{"key": "count()", "value": iv(2)},
	})

	// A trace without its root.
	got = getJSON(t, srv, "/api/search", "q", `{ name = "load" }`).(obj)
	traces = got["traces"].(arr)
	if len(traces) != 2 || traces[1].(obj)["rootServiceName"] != "<root span not yet received>" || traces[1].(obj)["rootTraceName"] != nil {
		t.Errorf("rootless trace: %v", traces)
	}
	// Limit, newest first.
	got = getJSON(t, srv, "/api/search", "q", `{ }`, "limit", "2").(obj)
	traces = got["traces"].(arr)
	if len(traces) != 2 || traces[0].(obj)["traceID"] != traceB || traces[1].(obj)["traceID"] != traceA {
		t.Errorf("limit 2: %v", traces)
	}
	// Nothing found: an empty list, not null.
	equal(t, "no match", getJSON(t, srv, "/api/search", "q", `{ name = "nope" }`).(obj)["traces"], arr{})
}

func TestSearchPartial(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{Engine: engine.Options{MaxCandidates: 1}})
	// { trace:id = ... } cannot be pushed down: every trace is a
	// candidate, newest first, and the bound stops the search at one.
	got := getJSON(t, srv, "/api/search", "q", `{ trace:id = "`+traceA+`" }`, "limit", "1").(obj)
	if got["partial"] != true || len(got["traces"].(arr)) != 0 {
		t.Errorf("bounded search: %v", got)
	}
}

func TestSearchTagsMode(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	got := getJSON(t, srv, "/api/search", "tags", `http.method=GET service.name="frontend"`, "minDuration", "100ms").(obj)
	traces := got["traces"].(arr)
	if len(traces) != 1 || traces[0].(obj)["traceID"] != traceA || traces[0].(obj)["spanSets"] != nil {
		t.Errorf("tags search: %v", got)
	}
}

func TestSearchErrors(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	f := func(want string, params ...string) {
		t.Helper()
		code, ct, body := get(t, srv, "/api/search", nil, params...)
		if code != http.StatusBadRequest || !strings.HasPrefix(ct, "text/plain") || !strings.Contains(string(body), want) {
			t.Errorf("search %v: %d %s %q, want 400 containing %q", params, code, ct, body, want)
		}
	}
	f("syntax error at 1:8: unexpected \"}\"", "q", "{ .a = }")
	f("validation error at 1:3: cannot compare a string with an int", "q", "{ name = 1 }")
	f("metrics query", "q", "{ } | rate()")
	f("malformed parameter limit", "q", "{ }", "limit", "x")
	f("malformed parameter start", "q", "{ }", "start", "yesterday")
	f("end is before start", "q", "{ }", "start", "20", "end", "10")
	f("malformed parameter tags", "tags", "novalue")
}

func TestTags(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	equal(t, "v1 tags", getJSON(t, srv, "/api/search/tags"), obj{"tagNames": arr{"db.rows", "env", "http.method", "http.status_code", "service.name"}})
	equal(t, "v1 span tags", getJSON(t, srv, "/api/search/tags", "scope", "span"), obj{"tagNames": arr{"db.rows", "http.method", "http.status_code"}})
	v2 := getJSON(t, srv, "/api/v2/search/tags").(obj)["scopes"].(arr)
	if len(v2) != 3 {
		t.Fatalf("v2 scopes: %v", v2)
	}
	equal(t, "v2 resource", v2[0], obj{"name": "resource", "tags": arr{"env", "service.name"}})
	equal(t, "v2 span", v2[1], obj{"name": "span", "tags": arr{"db.rows", "http.method", "http.status_code"}})
	intrinsic := v2[2].(obj)
	if intrinsic["name"] != "intrinsic" || !strings.Contains(toJSON(intrinsic["tags"]), `"span:status"`) || !strings.Contains(toJSON(intrinsic["tags"]), `"rootServiceName"`) {
		t.Errorf("v2 intrinsic: %v", intrinsic)
	}
	// q narrows the names to spans matching its conditions.
	equal(t, "v2 span tags of db spans", getJSON(t, srv, "/api/v2/search/tags", "scope", "span", "q", `{ resource.service.name = "db" && name = }`),
		obj{"scopes": arr{obj{"name": "span", "tags": arr{"db.rows"}}}})
	code, _, _ := get(t, srv, "/api/v2/search/tags", nil, "scope", "nope")
	if code != http.StatusBadRequest {
		t.Errorf("unknown scope: %d", code)
	}
}

func TestTagValues(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	equal(t, "v1 values", getJSON(t, srv, "/api/search/tag/http.method/values"), obj{"tagValues": arr{"GET"}})
	equal(t, "v1 service values", getJSON(t, srv, "/api/search/tag/service.name/values"), obj{"tagValues": arr{"api", "db", "frontend"}})
	equal(t, "v1 status", getJSON(t, srv, "/api/search/tag/status/values"), obj{"tagValues": arr{"error", "ok", "unset"}})

	tv := func(typ, v string) obj { return obj{"type": typ, "value": v} }
	equal(t, "v2 service", getJSON(t, srv, "/api/v2/search/tag/resource.service.name/values"),
		obj{"tagValues": arr{tv("string", "api"), tv("string", "db"), tv("string", "frontend")}})
	equal(t, "v2 ints", getJSON(t, srv, "/api/v2/search/tag/span.http.status_code/values"),
		obj{"tagValues": arr{tv("int", "200"), tv("int", "500")}})
	equal(t, "v2 names", getJSON(t, srv, "/api/v2/search/tag/name/values"),
		obj{"tagValues": arr{tv("string", "GET /cart"), tv("string", "GET /health"), tv("string", "SELECT"), tv("string", "load")}})
	equal(t, "v2 kind", getJSON(t, srv, "/api/v2/search/tag/kind/values").(obj)["tagValues"].(arr)[0], tv("keyword", "client"))
	// q narrows values to spans matching its other conditions; the
	// condition being typed on the tag itself is ignored.
	equal(t, "v2 names of frontend", getJSON(t, srv, "/api/v2/search/tag/name/values", "q", `{ resource.service.name = "frontend" && name = "G`),
		obj{"tagValues": arr{tv("string", "GET /cart"), tv("string", "GET /health")}})
	equal(t, "v2 rows of errors", getJSON(t, srv, "/api/v2/search/tag/span.db.rows/values", "q", `{ status = error && span.db.rows > 1 }`),
		obj{"tagValues": arr{tv("int", "3")}})
	equal(t, "v2 status messages", getJSON(t, srv, "/api/v2/search/tag/statusMessage/values", "q", `{ status = error }`),
		obj{"tagValues": arr{tv("string", "timeout")}})
	code, _, _ := get(t, srv, "/api/v2/search/tag/span.a%20=%201/values", nil)
	if code != http.StatusBadRequest {
		t.Errorf("malformed tag: %d", code)
	}
}

func TestTraceByID(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	protobuf := http.Header{"Accept": {"application/protobuf"}}

	// v2 JSON.
	v2 := getJSON(t, srv, "/api/v2/traces/"+traceA).(obj)
	if v2["status"] != "COMPLETE" {
		t.Errorf("v2 status: %v", v2["status"])
	}
	checkOTLPJSON(t, v2["trace"].(obj)["resourceSpans"], 4)

	// v1 Tempo JSON when asked with format=tempo; Jaeger's otherwise.
	v1 := getJSON(t, srv, "/api/traces/"+traceA, "format", "tempo").(obj)
	checkOTLPJSON(t, v1["batches"], 4)
	equal(t, "jaeger route", getJSON(t, srv, "/api/traces/"+traceA), obj{"jaeger": true})

	// Protobuf: Tempo's Trace is OTLP's TracesData.
	for _, path := range []string{"/api/traces/" + traceA, "/api/v2/traces/" + traceA} {
		code, ct, body := get(t, srv, path, protobuf)
		if code != 200 || ct != "application/protobuf" {
			t.Fatalf("%s: %d %s", path, code, ct)
		}
		if strings.HasPrefix(path, "/api/v2/") {
			// TraceByIDResponse: field 1 holds the Trace.
			num, typ, n := protowire.ConsumeTag(body)
			if num != 1 || typ != protowire.BytesType {
				t.Fatalf("v2 protobuf starts with field %d type %d", num, typ)
			}
			body, _ = protowire.ConsumeBytes(body[n:])
		}
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if td.SpanCount() != 4 || td.ResourceSpans().Len() != 3 {
			t.Errorf("%s: %d spans in %d resources", path, td.SpanCount(), td.ResourceSpans().Len())
		}
	}

	code, _, body := get(t, srv, "/api/v2/traces/00000000000000000000000000000fff", nil)
	if code != http.StatusNotFound || !strings.Contains(string(body), "trace not found") {
		t.Errorf("missing trace: %d %s", code, body)
	}
	code, _, _ = get(t, srv, "/api/v2/traces/xyz", nil)
	if code != http.StatusBadRequest {
		t.Errorf("bad id: %d", code)
	}
	code, _, _ = get(t, srv, "/api/traces/00000000000000000000000000000fff", protobuf)
	if code != http.StatusNotFound {
		t.Errorf("missing trace via protobuf: %d", code)
	}
}

// checkOTLPJSON checks resource spans in OTLP JSON: hex IDs and the
// services of the fixture's trace A.
func checkOTLPJSON(t *testing.T, rs any, wantSpans int) {
	t.Helper()
	n := 0
	services := map[string]bool{}
	for _, r := range rs.(arr) {
		for _, attr := range r.(obj)["resource"].(obj)["attributes"].(arr) {
			if attr.(obj)["key"] == "service.name" {
				services[attr.(obj)["value"].(obj)["stringValue"].(string)] = true
			}
		}
		for _, ss := range r.(obj)["scopeSpans"].(arr) {
			for _, s := range ss.(obj)["spans"].(arr) {
				n++
				if s.(obj)["traceId"] != traceA {
					t.Errorf("span traceId %v", s.(obj)["traceId"])
				}
			}
		}
	}
	if n != wantSpans || len(services) != 3 {
		t.Errorf("got %d spans of services %v", n, services)
	}
}

func TestMetricsQueryRange(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	got := getJSON(t, srv, "/api/metrics/query_range",
		"q", `{ kind = server } | count_over_time() by (resource.service.name)`,
		"start", secs(-20*time.Minute), "end", secs(0), "step", "5m").(obj)
	delete(got["metrics"].(obj), "inspectedBytes")
	ms := func(d time.Duration) string { return strings.TrimSuffix(ns(d), "000000") }
	samples := func(vals ...float64) arr {
		out := arr{}
		for i, v := range vals {
			out = append(out, obj{"timestampMs": ms(time.Duration(i-4) * 5 * time.Minute), "value": v})
		}
		return out
	}
	equal(t, "query_range", got, obj{
		"series": arr{
			obj{"labels": arr{obj{"key": "resource.service.name", "value": sv("api")}}, "promLabels": `{resource.service.name="api"}`,
				"samples": samples(0, 0, 1, 0), "exemplars": arr{}},
			obj{"labels": arr{obj{"key": "resource.service.name", "value": sv("frontend")}}, "promLabels": `{resource.service.name="frontend"}`,
				"samples": samples(0, 0, 1, 1), "exemplars": arr{}},
		},
		"metrics": obj{"inspectedTraces": 2, "inspectedSpans": "5", "totalBlocks": 0, "completedJobs": 4, "totalJobs": 4},
		"status":  "COMPLETE",
	})

	// Quantiles of durations in seconds, with the p label; RFC 3339 times.
	got = getJSON(t, srv, "/api/metrics/query_range", "q", `{ } | quantile_over_time(duration, .5)`,
		"start", now.Add(-15*time.Minute).Format(time.RFC3339), "end", now.Format(time.RFC3339), "step", "900").(obj)
	equal(t, "quantile series", got["series"], arr{obj{
		"labels": arr{obj{"key": "p", "value": obj{"doubleValue": 0.5}}}, "promLabels": `{p="0.5"}`,
		"samples": arr{obj{"timestampMs": ms(-15 * time.Minute), "value": 0.09}}, "exemplars": arr{},
	}})
}

func TestMetricsInstant(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	got := getJSON(t, srv, "/api/metrics/query", "q", `{ status = error } | rate()`, "since", "1h").(obj)
	equal(t, "instant series", got["series"], arr{obj{"labels": arr{}, "promLabels": "{}", "value": 1.0 / 3600}})
}

func TestMetricsErrors(t *testing.T) {
	srv, _ := newServer(t, tempo.Options{})
	f := func(want string, params ...string) {
		t.Helper()
		code, _, body := get(t, srv, "/api/metrics/query_range", nil, params...)
		if code != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("query_range %v: %d %q, want 400 containing %q", params, code, body, want)
		}
	}
	f("not a metrics query", "q", "{ }")
	f("syntax error", "q", "{ } | rate(")
	f("malformed parameter step", "q", "{ } | rate()", "step", "-1s")
	f("malformed parameter start", "q", "{ } | rate()", "start", "soon")
	f("end must be after start", "q", "{ } | rate()", "start", secs(0), "end", secs(-time.Hour))
	f("more than", "q", "{ } | rate()", "start", secs(-time.Hour), "end", secs(0), "step", "1ms")
}
