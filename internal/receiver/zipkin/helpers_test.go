package zipkin

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// testNow is the fixed clock of every test ingester.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	w   *storagetest.Recorder
	in  *ingest.Ingester
	r   *Receiver
	mux *http.ServeMux
}

func newFixture(t testing.TB, io ingest.Options, o Options) *fixture {
	t.Helper()
	w := &storagetest.Recorder{}
	if io.Now == nil {
		io.Now = func() time.Time { return testNow }
	}
	io.Logger = quietLogger
	in, err := ingest.New(w, io)
	if err != nil {
		t.Fatal(err)
	}
	o.Logger = quietLogger
	r, err := New(in, o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.Register(mux)
	return &fixture{w: w, in: in, r: r, mux: mux}
}

// post sends body to h and returns the recorded response.
func post(h http.Handler, path, contentType, encoding string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
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

func spanIDs(spans []*model.Span) map[model.SpanID]*model.Span {
	m := make(map[model.SpanID]*model.Span, len(spans))
	for _, s := range spans {
		m[s.SpanID] = s
	}
	return m
}

// micros is testNow minus a minute plus d, in Zipkin's microseconds.
func micros(d time.Duration) int64 {
	return testNow.Add(-time.Minute).Add(d).UnixMicro()
}
