package zipkin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	zipkinmodel "github.com/openzipkin/zipkin-go/model"
	"github.com/openzipkin/zipkin-go/proto/zipkin_proto3"
)

const (
	ctJSON  = "application/json"
	ctProto = "application/x-protobuf"
)

// v2JSON is a Zipkin v2 report: a server root with a 128-bit trace ID is
// not included here; see the ID tests. The client span has a 64-bit trace
// ID, a parent, tags, an annotation, an error and a link tag.
func v2JSON() string {
	return fmt.Sprintf(`[{
	"traceId":"463ac35c9f6413ad","parentId":"463ac35c9f6413ad","id":"72485a3953bb6124",
	"kind":"CLIENT","name":"get /api","timestamp":%d,"duration":207000,
	"localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1"},
	"remoteEndpoint":{"serviceName":"backend","port":8080},
	"tags":{"http.path":"/api","error":"connection refused",
		"otlp.link.0":"0102030405060708090a0b0c0d0e0f10|0807060504030201||{\"link.kind\":\"follows\"}|0"},
	"annotations":[{"timestamp":%d,"value":"retry"}]
	},{
	"traceId":"463ac35c9f6413ad","id":"463ac35c9f6413ad","kind":"SERVER","name":"get /",
	"timestamp":%d,"duration":300000,"localEndpoint":{"serviceName":"frontend"}
	}]`, micros(time.Millisecond), micros(2*time.Millisecond), micros(0))
}

// checkV2 asserts what v2JSON (or its protobuf twin) must become.
func checkV2(t *testing.T, stored []*model.Span) {
	t.Helper()
	if len(stored) != 2 {
		t.Fatalf("stored %d spans, want 2", len(stored))
	}
	byID := spanIDs(stored)
	root := byID[model.SpanID{0x46, 0x3a, 0xc3, 0x5c, 0x9f, 0x64, 0x13, 0xad}]
	child := byID[model.SpanID{0x72, 0x48, 0x5a, 0x39, 0x53, 0xbb, 0x61, 0x24}]
	if root == nil || child == nil {
		t.Fatalf("span ids: %v", byID)
	}
	wantTrace := model.TraceID{8: 0x46, 9: 0x3a, 10: 0xc3, 11: 0x5c, 12: 0x9f, 13: 0x64, 14: 0x13, 15: 0xad}
	for _, s := range stored {
		if s.TraceID != wantTrace {
			t.Errorf("trace id %s, want %s (64-bit id in the low bytes)", s.TraceID, wantTrace)
		}
		if s.Service() != "frontend" {
			t.Errorf("service %q", s.Service())
		}
	}
	if !root.IsRoot() || root.Kind != model.KindServer || root.Name != "get /" {
		t.Errorf("root %+v", root)
	}
	if root.StartUnixNano != uint64(micros(0)*1000) || root.EndUnixNano != uint64(micros(300*time.Millisecond)*1000) {
		t.Errorf("root times %d..%d", root.StartUnixNano, root.EndUnixNano)
	}
	if child.ParentSpanID != root.SpanID || child.Kind != model.KindClient || child.Name != "get /api" {
		t.Errorf("child %+v", child)
	}
	if v, _ := model.Find(child.Attributes, "http.path"); v.Str != "/api" {
		t.Errorf("http.path = %+v", v)
	}
	if child.StatusCode != model.StatusError {
		t.Errorf("status %v", child.StatusCode)
	}
	if len(child.Events) != 1 || child.Events[0].Name != "retry" || child.Events[0].TimeUnixNano != uint64(micros(2*time.Millisecond)*1000) {
		t.Errorf("events %+v", child.Events)
	}
	if len(child.Links) != 1 || child.Links[0].TraceID.String() != "0102030405060708090a0b0c0d0e0f10" || child.Links[0].SpanID.String() != "0807060504030201" {
		t.Fatalf("links %+v", child.Links)
	}
	if v, _ := model.Find(child.Links[0].Attributes, "link.kind"); v.Str != "follows" {
		t.Errorf("link attribute %+v", v)
	}
	if v, ok := model.Find(child.Attributes, "peer.service"); ok && v.Str != "backend" {
		t.Errorf("peer.service %+v", v)
	}
}

func TestV2JSONOverHTTP(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	srv := httptest.NewServer(fx.mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+V2Path, strings.NewReader(string(gzipped(t, []byte(v2JSON())))))
	req.Header.Set("Content-Type", ctJSON)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	checkV2(t, fx.w.Stored())
}

func TestV2Proto(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	var spans []*zipkinmodel.SpanModel
	if err := jsonUnmarshal([]byte(v2JSON()), &spans); err != nil {
		t.Fatal(err)
	}
	body, err := zipkin_proto3.SpanSerializer{}.Serialize(spans)
	if err != nil {
		t.Fatal(err)
	}
	if rec := post(fx.mux, V2Path, ctProto, "", body); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	checkV2(t, fx.w.Stored())
}

func TestV1JSON(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	ep := `{"serviceName":"frontend","ipv4":"127.0.0.1"}`
	body := fmt.Sprintf(`[{"traceId":"463ac35c9f6413ad","name":"get /api","id":"72485a3953bb6124","parentId":"463ac35c9f6413ad",
	"timestamp":%d,"duration":207000,
	"annotations":[{"timestamp":%d,"value":"cs","endpoint":%s},{"timestamp":%d,"value":"cr","endpoint":%s},
		{"timestamp":%d,"value":"retry","endpoint":%s}],
	"binaryAnnotations":[{"key":"http.path","value":"/api","endpoint":%s}]}]`,
		micros(0), micros(0), ep, micros(207*time.Millisecond), ep, micros(time.Millisecond), ep, ep)
	if rec := post(fx.mux, V1Path, ctJSON, "gzip", gzipped(t, []byte(body))); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	stored := fx.w.Stored()
	if len(stored) != 1 {
		t.Fatalf("stored %d spans", len(stored))
	}
	s := stored[0]
	if s.TraceID.String() != "0000000000000000463ac35c9f6413ad" || s.SpanID.String() != "72485a3953bb6124" || s.ParentSpanID.String() != "463ac35c9f6413ad" {
		t.Fatalf("ids %s %s %s", s.TraceID, s.SpanID, s.ParentSpanID)
	}
	if s.Kind != model.KindClient || s.Service() != "frontend" || s.Name != "get /api" {
		t.Fatalf("span %+v", s)
	}
	if s.StartUnixNano != uint64(micros(0)*1000) || s.EndUnixNano != uint64(micros(207*time.Millisecond)*1000) {
		t.Fatalf("times %d..%d", s.StartUnixNano, s.EndUnixNano)
	}
	if v, _ := model.Find(s.Attributes, "http.path"); v.Str != "/api" {
		t.Fatalf("http.path %+v", v)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "retry" {
		t.Fatalf("events %+v", s.Events)
	}
}

// TestTraceIDWidths checks that each protocol puts a 64-bit Zipkin trace
// ID in the low eight bytes and keeps a 128-bit one whole, whatever the
// case of its hex digits, so that Zipkin and OTLP spans of one trace meet.
func TestTraceIDWidths(t *testing.T) {
	low := model.TraceID{8: 0xa1, 15: 0x01}
	full := model.TraceID{0: 0x5b, 7: 0x02, 8: 0xa1, 15: 0x01}
	cases := []struct {
		hex  string
		want model.TraceID
	}{
		{"a100000000000001", low},
		{"A100000000000001", low},
		{"5b00000000000002a100000000000001", full},
		{"5B00000000000002A100000000000001", full},
	}
	for _, c := range cases {
		span := func(id string) string {
			return fmt.Sprintf(`{"traceId":%q,"id":%q,"name":"x","timestamp":%d,"duration":1}`, c.hex, id, micros(0))
		}
		fx := newFixture(t, ingest.Options{}, Options{})
		if rec := post(fx.mux, V2Path, ctJSON, "", []byte("["+span("0000000000000001")+"]")); rec.Code != http.StatusAccepted {
			t.Fatalf("v2 %s: %d %s", c.hex, rec.Code, rec.Body)
		}
		var zs []*zipkinmodel.SpanModel
		if err := jsonUnmarshal([]byte("["+span("0000000000000002")+"]"), &zs); err != nil {
			t.Fatal(err)
		}
		pb, err := zipkin_proto3.SpanSerializer{}.Serialize(zs)
		if err != nil {
			t.Fatal(err)
		}
		if rec := post(fx.mux, V2Path, ctProto, "", pb); rec.Code != http.StatusAccepted {
			t.Fatalf("v2 proto %s: %d %s", c.hex, rec.Code, rec.Body)
		}
		if rec := post(fx.mux, V1Path, ctJSON, "", []byte("["+span("0000000000000003")+"]")); rec.Code != http.StatusAccepted {
			t.Fatalf("v1 %s: %d %s", c.hex, rec.Code, rec.Body)
		}
		stored := fx.w.Stored()
		if len(stored) != 3 {
			t.Fatalf("%s: stored %d spans", c.hex, len(stored))
		}
		for _, s := range stored {
			if s.TraceID != c.want {
				t.Errorf("%s (span %s): trace id %s, want %s", c.hex, s.SpanID, s.TraceID, c.want)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{MaxRequestBytes: 64 << 10})
	good := func(id string) string {
		return fmt.Sprintf(`{"traceId":"463ac35c9f6413ad","id":%q,"name":"ok","timestamp":%d,"duration":10}`, id, micros(0))
	}
	if rec := post(fx.mux, V2Path, ctJSON, "", []byte("["+good("00000000000000a1")+"]")); rec.Code != http.StatusAccepted {
		t.Fatalf("valid request: %d %s", rec.Code, rec.Body)
	}
	zeroTrace := fmt.Sprintf(`{"traceId":"0000000000000000","id":"00000000000000b1","name":"x","timestamp":%d,"duration":1}`, micros(0))
	zeroSpan := fmt.Sprintf(`{"traceId":"463ac35c9f6413ad","id":"0000000000000000","name":"x","timestamp":%d,"duration":1}`, micros(0))
	noTime := `{"traceId":"463ac35c9f6413ad","id":"00000000000000b2","name":"x"}`
	badHex := fmt.Sprintf(`{"traceId":"463ac35c9f6413ad","id":"zz","name":"x","timestamp":%d}`, micros(0))
	v1ZeroTrace := fmt.Sprintf(`{"traceId":"0000000000000000","id":"00000000000000b3","name":"x","timestamp":%d,"duration":1}`, micros(0))
	huge := "[" + good("00000000000000c1") + "," + strings.Repeat(" ", 70<<10) + "]"

	cases := []struct {
		name, path, contentType, encoding string
		body                              string
		code                              int
		msg                               string
	}{
		{"malformed json", V2Path, ctJSON, "", `[{"traceId":`, 400, "cannot decode zipkin_v2 request: want a JSON array of Zipkin v2 spans"},
		{"object not array", V2Path, ctJSON, "", `{"traceId":"1"}`, 400, "want a JSON array"},
		{"malformed proto", V2Path, ctProto, "", "\x0a\x10\x01", 400, "want a protobuf zipkin.proto3.ListOfSpans"},
		{"malformed v1", V1Path, ctJSON, "", `[1,2`, 400, "cannot decode zipkin_v1 request"},
		{"wrong content type", V2Path, "text/plain", "", "[]", 415, `unsupported Content-Type "text/plain"`},
		{"v1 thrift", V1Path, "application/x-thrift", "", "\x0c\x00", 415, "Zipkin v1 Thrift is not supported"},
		{"v1 proto", V1Path, ctProto, "", "", 415, "want application/json"},
		{"too large", V2Path, ctJSON, "", huge, 413, "request body too large"},
		{"too large gzip", V2Path, ctJSON, "gzip", string(gzipped(t, []byte(huge))), 413, "request body too large"},
		{"bad gzip", V2Path, ctJSON, "gzip", "[]", 400, "gzip"},
		{"unknown encoding", V2Path, ctJSON, "deflate", "[]", 415, `unsupported content encoding "deflate"`},
		{"zero trace id", V2Path, ctJSON, "", "[" + zeroTrace + "]", 400, "1 span rejected: trace id is all zero (1)"},
		{"zero span id", V2Path, ctJSON, "", "[" + zeroSpan + "]", 400, "1 span rejected: span id is all zero (1)"},
		{"no timestamp", V2Path, ctJSON, "", "[" + noTime + "]", 400, "1 span rejected: span has no start time (1)"},
		{"bad hex", V2Path, ctJSON, "", "[" + badHex + "]", 400, "1 span rejected: malformed span"},
		{"v1 zero trace id", V1Path, ctJSON, "", "[" + v1ZeroTrace + "]", 400, "1 span rejected: malformed span: zipkinV1 span traceId: traceId is zero (1)"},
		{"v1 null span", V1Path, ctJSON, "", "[null]", 400, "malformed span: span is null (1)"},
		{"v1 null annotation", V1Path, ctJSON, "", `[{"traceId":"463ac35c9f6413ad","id":"00000000000000b4","binaryAnnotations":[null]}]`, 400, "malformed span"},
		{"mixed v2", V2Path, ctJSON, "", "[" + good("00000000000000d1") + "," + zeroSpan + "," + good("00000000000000d2") + "," + zeroTrace + "]", 202, ""},
		{"mixed v1", V1Path, ctJSON, "", "[" + good("00000000000000d3") + "," + v1ZeroTrace + ",null]", 202, ""},
		{"empty", V2Path, ctJSON, "", "[]", 202, ""},
		{"no content type", V2Path, "", "", "[" + good("00000000000000d4") + "]", 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := post(fx.mux, c.path, c.contentType, c.encoding, []byte(c.body))
			if rec.Code != c.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.code, rec.Body)
			}
			if c.msg != "" && !strings.Contains(rec.Body.String(), c.msg) {
				t.Fatalf("body %q does not contain %q", rec.Body, c.msg)
			}
			if c.code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
				t.Fatalf("error of type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	got := spanIDs(fx.w.Stored())
	for _, id := range []string{"00000000000000a1", "00000000000000d1", "00000000000000d2", "00000000000000d3", "00000000000000d4"} {
		sid, _ := model.ParseSpanID(id)
		if got[sid] == nil {
			t.Errorf("span %s lost", id)
		}
	}
	if len(got) != 5 {
		t.Errorf("stored %d spans, want 5", len(got))
	}
}

func TestOverload(t *testing.T) {
	body := []byte(fmt.Sprintf(`[{"traceId":"463ac35c9f6413ad","id":"00000000000000a1","timestamp":%d,"duration":1}]`, micros(0)))
	fx := newFixture(t, ingest.Options{MaxInFlightBytes: int64(len(body))}, Options{})
	entered := fx.w.Hold(true)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- post(fx.mux, V2Path, ctJSON, "", body) }()
	<-entered
	rec := post(fx.mux, V2Path, ctJSON, "", body)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "ingest overloaded") {
		t.Fatalf("body %q", rec.Body)
	}
	fx.w.Release()
	if rec := <-done; rec.Code != http.StatusAccepted {
		t.Fatalf("blocked request: %d", rec.Code)
	}
}

func TestStorageErrors(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	body := []byte(fmt.Sprintf(`[{"traceId":"463ac35c9f6413ad","id":"00000000000000a1","timestamp":%d,"duration":1}]`, micros(0)))
	fx.w.SetErr(errors.New("disk /var/lib/clew full"))
	rec := post(fx.mux, V2Path, ctJSON, "", body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || strings.Contains(rec.Body.String(), "/var/lib") {
		t.Fatalf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	fx.w.SetErr(storage.ErrOverloaded)
	rec = post(fx.mux, V1Path, ctJSON, "", body)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestTooManySpans(t *testing.T) {
	fx := newFixture(t, ingest.Options{MaxSpansPerRequest: 1}, Options{})
	s := fmt.Sprintf(`{"traceId":"463ac35c9f6413ad","id":"00000000000000a1","timestamp":%d,"duration":1}`, micros(0))
	rec := post(fx.mux, V2Path, ctJSON, "", []byte("["+s+","+s+"]"))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "2 spans, limit 1") {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestRegisterBesideQueryAPI(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	// The Zipkin query API owns GET on the same path.
	fx.mux.HandleFunc("GET "+V2Path, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	rec := httptest.NewRecorder()
	fx.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, V2Path, nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("GET: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	fx.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, V1Path, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", rec.Code)
	}
	if rec := post(fx.mux, V2Path, ctJSON, "", []byte("[]")); rec.Code != http.StatusAccepted {
		t.Fatalf("POST: %d", rec.Code)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{MaxRequestBytes: -1}, {RetryAfter: -1}} {
		if err := o.EnsureDefaults().Validate(); err == nil {
			t.Errorf("Validate(%+v) passed", o)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}
