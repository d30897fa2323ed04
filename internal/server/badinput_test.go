package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBadInputKeepsStoredData sends each kind of bad request and checks
// its status and message, and that a trace stored before is still whole.
func TestBadInputKeepsStoredData(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.HTTPMaxBodyBytes = 64 << 10
	ts := startServer(t, cfg)
	now := time.Now().Add(-time.Minute)
	const good = "11111111111111111111111111111111"
	if code, resp := post(t, ts.url("otlp-http", "/v1/traces"), "application/json",
		otlpJSON("keep", good, "0000000000000001", "", "root", now, time.Millisecond)); code != 200 {
		t.Fatalf("seed: %d %s", code, resp)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(otlpJSON("gz", "22222222222222222222222222222222", "0000000000000002", "", "gz", now, time.Millisecond))
	zw.Close()

	otlp := ts.url("otlp-http", "/v1/traces")
	zipkinV2 := ts.url("zipkin", "/api/v2/spans")
	cases := []struct {
		name, url, ctype string
		body             []byte
		header           []string
		status           int
		msg              string // substring of the response
	}{
		{"otlp malformed json", otlp, "application/json", []byte(`{"resourceSpans":[`), nil, 400, ""},
		{"otlp malformed proto", otlp, "application/x-protobuf", []byte{0xff, 0xff, 0xff}, nil, 400, ""},
		{"otlp wrong content type", otlp, "text/plain", []byte("hello"), nil, 415, ""},
		{"otlp too large", otlp, "application/json", bytes.Repeat([]byte(" "), 200<<10), nil, 413, ""},
		{"otlp bad gzip", otlp, "application/json", []byte("not gzip"), []string{"Content-Encoding", "gzip"}, 400, ""},
		{"otlp zero trace id", otlp, "application/json", otlpJSON("bad", strings.Repeat("0", 32), "0000000000000003", "", "x", now, time.Millisecond), nil, 200, "trace id"},
		{"otlp zero span id", otlp, "application/json", otlpJSON("bad", "33333333333333333333333333333333", strings.Repeat("0", 16), "", "x", now, time.Millisecond), nil, 200, "span id"},
		{"otlp end before start", otlp, "application/json", otlpJSON("bad", "44444444444444444444444444444444", "0000000000000004", "", "x", now, -time.Second), nil, 200, "ends before"},
		{"otlp gzip ok", otlp, "application/json", gz.Bytes(), []string{"Content-Encoding", "gzip"}, 200, ""},
		{"zipkin malformed", zipkinV2, "application/json", []byte(`[{"traceId":`), nil, 400, ""},
		{"zipkin wrong content type", zipkinV2, "text/plain", []byte(`[]`), nil, 415, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, c.url, c.ctype, c.body, c.header...)
			if code != c.status {
				t.Errorf("status %d, want %d (%s)", code, c.status, body)
			}
			if c.msg != "" && !strings.Contains(body, c.msg) {
				t.Errorf("body %q lacks %q", body, c.msg)
			}
			if code >= 400 && strings.TrimSpace(body) == "" {
				t.Error("error without a message")
			}
			if n := traceSpanCount(t, ts, good); n != 1 {
				t.Errorf("stored trace has %d spans after bad input", n)
			}
		})
	}
	// Partial success: the valid span of a mixed batch is kept.
	mixed := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"mixed"}}]},
 "scopeSpans":[{"spans":[
  {"traceId":"55555555555555555555555555555555","spanId":"0000000000000005","name":"ok","startTimeUnixNano":"%d","endTimeUnixNano":"%d"},
  {"traceId":"55555555555555555555555555555555","spanId":"0000000000000000","name":"bad","startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}]}`,
		now.UnixNano(), now.UnixNano()+1000, now.UnixNano(), now.UnixNano()+1000)
	code, body := post(t, otlp, "application/json", []byte(mixed))
	if code != 200 || !strings.Contains(body, `"rejectedSpans":"1"`) {
		t.Errorf("partial success: %d %s", code, body)
	}
	if n := traceSpanCount(t, ts, "55555555555555555555555555555555"); n != 1 {
		t.Errorf("mixed batch stored %d spans, want 1", n)
	}
}
