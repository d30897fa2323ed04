package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
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
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	ctProto = "application/x-protobuf"
	ctJSON  = "application/json"
)

func gzipped(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body to h and returns the recorded response.
func post(h http.Handler, contentType, encoding string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, TracesPath, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decodeStatus reads a google.rpc.Status body in the response's encoding.
func decodeStatus(t *testing.T, rec *httptest.ResponseRecorder) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	switch ct := rec.Header().Get("Content-Type"); ct {
	case ctProto:
		err = proto.Unmarshal(rec.Body.Bytes(), st)
	case ctJSON:
		err = protojson.Unmarshal(rec.Body.Bytes(), st)
	default:
		t.Fatalf("error body of type %q: %s", ct, rec.Body)
	}
	if err != nil {
		t.Fatalf("decode status %q: %v", rec.Body, err)
	}
	return st
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) ptraceotlp.ExportResponse {
	t.Helper()
	resp := ptraceotlp.NewExportResponse()
	var err error
	switch ct := rec.Header().Get("Content-Type"); ct {
	case ctProto:
		err = resp.UnmarshalProto(rec.Body.Bytes())
	case ctJSON:
		err = resp.UnmarshalJSON(rec.Body.Bytes())
	default:
		t.Fatalf("response of type %q", ct)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestHTTPRawJSON(t *testing.T) {
	// OTLP/JSON as a hand-written client sends it: hex IDs, string
	// nanoseconds, enum numbers.
	fx := newFixture(t, ingest.Options{}, Options{})
	start := testNow.Add(-time.Minute).UnixNano()
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
	"scopeSpans":[{"scope":{"name":"lib","version":"2"},"spans":[{
	"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173",
	"name":"GET /","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d",
	"attributes":[{"key":"http.status_code","value":{"intValue":"500"}}],
	"events":[{"timeUnixNano":"%d","name":"boom","attributes":[{"key":"k","value":{"boolValue":true}}]}],
	"links":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0807060504030201"}],
	"status":{"code":2,"message":"internal error"}}]}]}]}`, start, start+1000, start+500)
	srv := httptest.NewServer(fx.r.Handler())
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+TracesPath, ctJSON, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctJSON {
		t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), respBody)
	}
	if !json.Valid(respBody) {
		t.Fatalf("response is not JSON: %q", respBody)
	}
	stored := fx.w.Stored()
	if len(stored) != 1 {
		t.Fatalf("stored %d spans", len(stored))
	}
	s := stored[0]
	wantTrace, _ := model.ParseTraceID("5b8efff798038103d269b633813fc60c")
	wantParent, _ := model.ParseSpanID("eee19b7ec3c1b173")
	if s.TraceID != wantTrace || s.SpanID.String() != "eee19b7ec3c1b174" || s.ParentSpanID != wantParent {
		t.Fatalf("ids %s %s %s", s.TraceID, s.SpanID, s.ParentSpanID)
	}
	if s.Service() != "web" || s.Kind != model.KindServer || s.StatusCode != model.StatusError || s.StatusMessage != "internal error" {
		t.Fatalf("span %+v", s)
	}
	if s.StartUnixNano != uint64(start) || s.EndUnixNano != uint64(start+1000) {
		t.Fatalf("times %d..%d", s.StartUnixNano, s.EndUnixNano)
	}
	if v, _ := model.Find(s.Attributes, "http.status_code"); v.Type != model.TypeInt || v.Int != 500 {
		t.Fatalf("attribute %+v", v)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "boom" || s.Events[0].TimeUnixNano != uint64(start+500) || !s.Events[0].Attributes[0].Value.Bool() {
		t.Fatalf("events %+v", s.Events)
	}
	if len(s.Links) != 1 || s.Links[0].SpanID.String() != "0807060504030201" || s.Links[0].TraceID.String() != "0102030405060708090a0b0c0d0e0f10" {
		t.Fatalf("links %+v", s.Links)
	}
}

func TestHTTPBadInput(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{MaxRequestBytes: 64 << 10})
	h := fx.r.Handler()

	// What is accepted before the bad inputs must survive them.
	if rec := post(h, ctProto, "", encode(t, false, span(1))); rec.Code != http.StatusOK {
		t.Fatalf("valid request: %d %s", rec.Code, rec.Body)
	}

	zeroTrace := span(10)
	zeroTrace.TraceID = model.TraceID{}
	zeroSpan := span(11)
	zeroSpan.SpanID = model.SpanID{}
	backwards := span(12)
	backwards.EndUnixNano = backwards.StartUnixNano - 1
	huge := span(13)
	huge.Name = strings.Repeat("x", 100<<10)

	type tc struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		code        int
		msg         string // in the Status or plain-text body
		rejected    int64  // for 200: partial success
	}
	cases := []tc{
		{"malformed json", ctJSON, "", []byte(`{"resourceSpans":[{`), 400, "cannot decode OTLP ExportTraceServiceRequest (application/json)", 0},
		{"json of wrong shape", ctJSON, "", []byte(`{"resourceSpans":"nope"}`), 400, "cannot decode", 0},
		{"malformed proto", ctProto, "", []byte{0x0a, 0x10, 0x01}, 400, "cannot decode OTLP ExportTraceServiceRequest (application/x-protobuf)", 0},
		{"json sent as proto", ctProto, "", encode(t, true, span(2)), 400, "cannot decode", 0},
		{"wrong content type", "text/plain", "", encode(t, false, span(2)), 415, `unsupported Content-Type "text/plain"`, 0},
		{"no content type", "", "", encode(t, false, span(2)), 415, "want application/x-protobuf or application/json", 0},
		{"too large", ctProto, "", encode(t, false, huge), 413, "request body too large", 0},
		{"too large after gunzip", ctProto, "gzip", gzipped(t, encode(t, false, huge)), 413, "request body too large", 0},
		{"bad gzip", ctProto, "gzip", encode(t, false, span(2)), 400, "gzip", 0},
		{"unknown encoding", ctProto, "br", encode(t, false, span(2)), 415, `unsupported content encoding "br"`, 0},
		{"zero trace id", ctProto, "", encode(t, false, zeroTrace), 200, "1 span rejected: trace id is all zero (1)", 1},
		{"zero span id", ctJSON, "", encode(t, true, zeroSpan), 200, "1 span rejected: span id is all zero (1)", 1},
		{"end before start", ctProto, "gzip", gzipped(t, encode(t, false, backwards)), 200, "1 span rejected: span ends before it starts (1)", 1},
		{"mixed", ctProto, "", encode(t, false, span(20), zeroSpan, span(21), backwards), 200,
			"2 spans rejected: span id is all zero (1); span ends before it starts (1)", 2},
		{"mixed json", ctJSON, "", encode(t, true, span(22), zeroTrace, zeroTrace), 200,
			"2 spans rejected: trace id is all zero (2)", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := post(h, c.contentType, c.encoding, c.body)
			if rec.Code != c.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.code, rec.Body)
			}
			var msg string
			switch {
			case c.code == 200:
				ps := decodeResponse(t, rec).PartialSuccess()
				if ps.RejectedSpans() != c.rejected {
					t.Fatalf("rejected %d, want %d", ps.RejectedSpans(), c.rejected)
				}
				msg = ps.ErrorMessage()
				if msg != c.msg {
					t.Fatalf("message %q, want %q", msg, c.msg)
				}
			case c.code == 415 && !strings.Contains(c.msg, "encoding"):
				msg = rec.Body.String() // no format to answer in
			default:
				if want := c.contentType; rec.Header().Get("Content-Type") != want {
					t.Fatalf("error body type %q, want %q", rec.Header().Get("Content-Type"), want)
				}
				st := decodeStatus(t, rec)
				if codes.Code(st.Code) != codes.InvalidArgument {
					t.Fatalf("status code %v", codes.Code(st.Code))
				}
				msg = st.Message
			}
			if !strings.Contains(msg, c.msg) {
				t.Fatalf("message %q does not contain %q", msg, c.msg)
			}
		})
	}

	got := spanIDs(fx.w.Stored())
	for _, id := range []byte{1, 20, 21, 22} {
		if got[span(id).SpanID] == nil {
			t.Errorf("span %d lost", id)
		}
	}
	if len(got) != 4 {
		t.Errorf("stored %d spans, want 4", len(got))
	}
}

func TestHTTPMethods(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		rec := httptest.NewRecorder()
		fx.r.Handler().ServeHTTP(rec, httptest.NewRequest(m, TracesPath, nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	fx.r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("POST /v1/metrics: %d, want 404", rec.Code)
	}
}

func wantRetry(t *testing.T, rec *httptest.ResponseRecorder, code int, grpcCode codes.Code) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status %d, want %d: %s", rec.Code, code, rec.Body)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q, want 1", got)
	}
	st := decodeStatus(t, rec)
	if codes.Code(st.Code) != grpcCode {
		t.Fatalf("status code %v, want %v", codes.Code(st.Code), grpcCode)
	}
	var ri errdetails.RetryInfo
	if len(st.Details) != 1 || st.Details[0].UnmarshalTo(&ri) != nil || ri.RetryDelay.AsDuration() != time.Second {
		t.Fatalf("details %v", st.Details)
	}
}

func TestHTTPOverload(t *testing.T) {
	body := encode(t, false, span(1))
	fx := newFixture(t, ingest.Options{MaxInFlightBytes: int64(len(body))}, Options{})
	entered := fx.w.Hold(true)
	h := fx.r.Handler()

	// A request blocked in storage holds its bytes...
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- post(h, ctProto, "", body) }()
	<-entered

	// ...so the next one is refused at once, in either encoding.
	wantRetry(t, post(h, ctProto, "", body), http.StatusTooManyRequests, codes.ResourceExhausted)
	wantRetry(t, post(h, ctJSON, "", encode(t, true, span(2))), http.StatusTooManyRequests, codes.ResourceExhausted)

	fx.w.Release()
	if rec := <-done; rec.Code != http.StatusOK {
		t.Fatalf("blocked request: %d %s", rec.Code, rec.Body)
	}
	if fx.in.InFlightBytes() != 0 {
		t.Fatalf("%d bytes still in flight", fx.in.InFlightBytes())
	}
	if rec := post(h, ctProto, "", body); rec.Code != http.StatusOK {
		t.Fatalf("after the budget freed up: %d", rec.Code)
	}
}

func TestHTTPStorageErrors(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	h := fx.r.Handler()
	fx.w.SetErr(errors.New("disk full"))
	wantRetry(t, post(h, ctProto, "", encode(t, false, span(1))), http.StatusServiceUnavailable, codes.Unavailable)
	fx.w.SetErr(storage.ErrOverloaded)
	wantRetry(t, post(h, ctJSON, "", encode(t, true, span(1))), http.StatusTooManyRequests, codes.ResourceExhausted)
}

func TestHTTPClientGone(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	fx.w.Hold(false) // never released: only the context ends the write
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, TracesPath, bytes.NewReader(encode(t, false, span(1))))
	req.Header.Set("Content-Type", ctProto)
	rec := httptest.NewRecorder()
	fx.r.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestHTTPTooManySpans(t *testing.T) {
	fx := newFixture(t, ingest.Options{MaxSpansPerRequest: 1}, Options{})
	rec := post(fx.r.Handler(), ctProto, "", encode(t, false, span(1), span(2)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", rec.Code)
	}
	if st := decodeStatus(t, rec); !strings.Contains(st.Message, "2 spans, limit 1") {
		t.Fatalf("message %q", st.Message)
	}
}

func TestHTTPEmptyRequest(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	for _, ct := range []string{ctProto, ctJSON + "; charset=utf-8"} {
		body := []byte{}
		if strings.HasPrefix(ct, ctJSON) {
			body = []byte("{}")
		}
		rec := post(fx.r.Handler(), ct, "", body)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", ct, rec.Code, rec.Body)
		}
		if ps := decodeResponse(t, rec).PartialSuccess(); ps.RejectedSpans() != 0 || ps.ErrorMessage() != "" {
			t.Fatalf("partial success on empty request: %v", ps.ErrorMessage())
		}
	}
}

func TestRegisterHTTPOnSharedMux(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /other", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	fx.r.RegisterHTTP(mux)
	if rec := post(mux, ctProto, "", encode(t, false, span(1))); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{MaxRequestBytes: -1},
		{RetryAfter: -time.Second},
		{AllowedOrigins: []string{"example.com"}},
		{AllowedOrigins: []string{"https://example.com/"}},
		{AllowedOrigins: []string{"ftp://example.com"}},
	} {
		if err := o.EnsureDefaults().Validate(); err == nil {
			t.Errorf("Validate(%+v) passed", o)
		}
	}
	ok := Options{AllowedOrigins: []string{"*", "https://example.com", "http://localhost:3000"}}
	if err := ok.EnsureDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if got := retryAfterSeconds(1500 * time.Millisecond); got != "2" {
		t.Fatalf("retryAfterSeconds(1.5s) = %q", got)
	}
}
