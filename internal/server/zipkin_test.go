package server

import (
	"fmt"
	"testing"
	"time"
)

// TestZipkinRoundTrip posts Zipkin v2 JSON as a Zipkin reporter would and
// reads the trace back through the Zipkin and Jaeger query APIs.
func TestZipkinRoundTrip(t *testing.T) {
	ts := startServer(t, testConfig(t.TempDir()))
	start := time.Now().Add(-time.Minute).UnixMicro()
	body := fmt.Sprintf(`[
 {"traceId":"463ac35c9f6413ad","id":"463ac35c9f6413ad","kind":"SERVER","name":"get /api","timestamp":%d,"duration":20000,
  "localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1"},"tags":{"http.method":"GET"}},
 {"traceId":"463ac35c9f6413ad","parentId":"463ac35c9f6413ad","id":"72485a3953bb6124","kind":"CLIENT","name":"query","timestamp":%d,"duration":5000,
  "localEndpoint":{"serviceName":"frontend"},"remoteEndpoint":{"serviceName":"mysql"},"annotations":[{"timestamp":%d,"value":"retry"}]}]`,
		start, start+1000, start+2000)
	if code, resp := post(t, ts.url("zipkin", "/api/v2/spans"), "application/json", []byte(body)); code != 202 {
		t.Fatalf("POST /api/v2/spans: %d %s", code, resp)
	}
	var spans []map[string]any
	getJSON(t, ts.url("zipkin", "/api/v2/trace/463AC35C9F6413AD"), 200, &spans)
	if len(spans) != 2 {
		t.Fatalf("zipkin trace: %d spans", len(spans))
	}
	for _, s := range spans {
		if s["traceId"] != "463ac35c9f6413ad" {
			t.Errorf("traceId = %v", s["traceId"])
		}
		if s["id"] == "72485a3953bb6124" {
			if s["parentId"] != "463ac35c9f6413ad" || s["kind"] != "CLIENT" || s["duration"] != float64(5000) {
				t.Errorf("child span = %v", s)
			}
		}
	}
	var svcs []string
	getJSON(t, ts.url("zipkin", "/api/v2/services"), 200, &svcs)
	if !contains(svcs, "frontend") {
		t.Errorf("zipkin services = %v", svcs)
	}
	// The same trace through the Jaeger API, by its 64-bit ID.
	if n := traceSpanCount(t, ts, "463ac35c9f6413ad"); n != 2 {
		t.Errorf("jaeger api: %d spans", n)
	}
}
