package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// otlpJSON builds a one-span OTLP/JSON request.
func otlpJSON(service, traceID, spanID, parentID, name string, start time.Time, dur time.Duration) []byte {
	return []byte(fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},
 "scopeSpans":[{"scope":{"name":"test"},"spans":[{"traceId":%q,"spanId":%q,"parentSpanId":%q,"name":%q,"kind":2,
 "startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[{"key":"k","value":{"stringValue":"v"}}]}]}]}]}`,
		service, traceID, spanID, parentID, name, start.UnixNano(), start.Add(dur).UnixNano()))
}

func traceSpanCount(t *testing.T, ts *testServer, traceID string) int {
	t.Helper()
	var got jaegerTraces
	getJSON(t, ts.url("http", "/api/traces/"+traceID), 200, &got)
	if len(got.Data) != 1 {
		t.Fatalf("trace %s: %d traces", traceID, len(got.Data))
	}
	return len(got.Data[0].Spans)
}

// TestRestartFindsEverything stops the server gracefully and starts a new
// one on the same data directory: every span is still found, whether it
// was in the WAL or in a block.
func TestRestartFindsEverything(t *testing.T) {
	cfg := testConfig(t.TempDir())
	ts := startServer(t, cfg)
	now := time.Now().Add(-time.Minute)
	const trace = "0af7651916cd43dd8448eb211c80319c"
	for i := 1; i <= 20; i++ {
		body := otlpJSON("restart-svc", trace, fmt.Sprintf("%016x", i), "", fmt.Sprintf("op-%d", i), now.Add(time.Duration(i)*time.Millisecond), time.Millisecond)
		if code, resp := post(t, ts.url("otlp-http", "/v1/traces"), "application/json", body); code != 200 {
			t.Fatalf("POST: %d %s", code, resp)
		}
	}
	ts.stop()

	ts2 := startServer(t, cfg)
	if n := traceSpanCount(t, ts2, trace); n != 20 {
		t.Fatalf("after restart: %d spans, want 20", n)
	}
	// Upper-case and short forms of the ID name the same trace.
	if n := traceSpanCount(t, ts2, strings.ToUpper(trace)); n != 20 {
		t.Errorf("upper-case id: %d spans", n)
	}
	ts2.stop()
	ts3 := startServer(t, cfg)
	if n := traceSpanCount(t, ts3, trace); n != 20 {
		t.Fatalf("after second restart: %d spans, want 20 (no duplicates, none lost)", n)
	}
}
