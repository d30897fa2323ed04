package zipkin

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
)

// fakeWriter is an in-memory storage.Writer that records what it stores
// and can be told to fail or to block.
type fakeWriter struct {
	mu    sync.Mutex
	spans []*model.Span
	err   error
	// block, when set, makes Write announce itself on entered and wait
	// until block is closed or ctx is done.
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeWriter) Write(ctx context.Context, spans []*model.Span) error {
	f.mu.Lock()
	block, entered, err := f.block, f.entered, f.err
	f.mu.Unlock()
	if block != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, spans...)
	return nil
}

func (f *fakeWriter) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// unblock lets blocked writes finish and later ones pass straight through.
func (f *fakeWriter) unblock() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.block)
	f.block, f.entered = nil, nil
}

func (f *fakeWriter) stored() []*model.Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*model.Span(nil), f.spans...)
}

// testNow is the fixed clock of every test ingester.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	w   *fakeWriter
	in  *ingest.Ingester
	r   *Receiver
	mux *http.ServeMux
}

func newFixture(t testing.TB, io ingest.Options, o Options) *fixture {
	t.Helper()
	w := &fakeWriter{}
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
