package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Factory opens a backend on dir, failing t if it cannot. Calling it again
// with the same dir after Close must reopen the same data (the restart
// tests rely on it). The suite closes every backend it opens.
type Factory func(t testing.TB, dir string) storage.Backend

// Options adjusts the suite to a backend.
type Options struct {
	// Ephemeral says the backend keeps nothing across Close (memstore);
	// the restart test is skipped.
	Ephemeral bool
	// Now, when set, is the suite's clock. Test data is placed about an
	// hour before it, so that backends with a retention period keep it.
	Now func() time.Time
	// SkipSlow shrinks the concurrency test and the generated data sets.
	SkipSlow bool
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// baseTime is the time the scripts' offsets count from: an hour before
// now, on a whole second.
func (o Options) baseTime() time.Time {
	return o.now().Add(-time.Hour).Truncate(time.Second)
}

// Run runs the whole conformance suite against the backends f opens, one
// subtest per part of the contract, each on a fresh directory.
func Run(t *testing.T, f Factory, opts Options) {
	t.Helper()
	if f == nil {
		t.Fatal("storagetest: nil Factory")
	}
	s := &suite{f: f, opts: opts}
	t.Run("JaegerFixtures", s.testJaegerFixtures)
	t.Run("TraceByID", s.testTraceByID)
	t.Run("SharedSpans", s.testSharedSpans)
	t.Run("FindTraces", func(t *testing.T) { s.runScripts(t, "find") })
	t.Run("FindTracesGenerated", s.testFindTracesGenerated)
	t.Run("Catalog", func(t *testing.T) { s.runScripts(t, "catalog") })
	t.Run("CatalogLimit", s.testCatalogLimit)
	t.Run("Dependencies", func(t *testing.T) { s.runScripts(t, "dependencies") })
	t.Run("SpansMinutesApart", s.testSpansMinutesApart)
	if _, ok := probeStats(t, f); ok {
		t.Run("OperationStats", s.testOperationStats)
		t.Run("EdgeStats", s.testEdgeStats)
	}
	t.Run("Concurrent", s.testConcurrent)
	t.Run("Restart", s.testRestart)
	t.Run("Durability", s.testDurability)
	t.Run("Closed", s.testClosed)
}

type suite struct {
	f    Factory
	opts Options
}

// handle is a backend opened by the suite; it is closed when the test
// ends unless the test closed it already.
type handle struct {
	storage.Backend
	t      testing.TB
	closed bool
}

// open opens a backend on dir and closes it at the end of the test.
func (s *suite) open(t testing.TB, dir string) *handle {
	t.Helper()
	b := s.f(t, dir)
	if b == nil {
		t.Fatal("storagetest: Factory returned a nil backend")
	}
	h := &handle{Backend: b, t: t}
	t.Cleanup(func() {
		if !h.closed {
			h.closed = true
			if err := b.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return h
}

// close closes the backend now, failing the test on error.
func (h *handle) close() {
	h.t.Helper()
	if h.closed {
		return
	}
	h.closed = true
	if err := h.Backend.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
}

func (h *handle) write(ctx context.Context, spans []*model.Span) {
	h.t.Helper()
	if err := h.Write(ctx, spans); err != nil {
		h.t.Fatalf("Write(%d spans): %v", len(spans), err)
	}
}

// flush flushes the backend when it is a storage.Flusher and reports
// whether it is one.
func (h *handle) flush(ctx context.Context) bool {
	h.t.Helper()
	fl, ok := h.Backend.(storage.Flusher)
	if !ok {
		return false
	}
	if err := fl.Flush(ctx); err != nil {
		h.t.Fatalf("Flush: %v", err)
	}
	return true
}

func (h *handle) isFlusher() bool {
	_, ok := h.Backend.(storage.Flusher)
	return ok
}

// trace fetches a trace that must exist.
func (h *handle) trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) []*model.Span {
	h.t.Helper()
	tr, err := h.Trace(ctx, id, hint)
	if err != nil {
		h.t.Fatalf("Trace(%s, %v): %v", id, hint, err)
	}
	if tr == nil {
		h.t.Fatalf("Trace(%s, %v): nil trace and nil error", id, hint)
	}
	if tr.ID != id {
		h.t.Errorf("Trace(%s).ID = %s", id, tr.ID)
	}
	return tr.Spans
}

func (h *handle) find(ctx context.Context, q *storage.Query) []storage.TraceSummary {
	h.t.Helper()
	res, err := h.FindTraces(ctx, q)
	if err != nil {
		h.t.Fatalf("FindTraces(%v): %v", queryString(q), err)
	}
	return res
}

// byTrace groups spans by trace ID.
func byTrace(spans []*model.Span) map[model.TraceID][]*model.Span {
	m := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		m[s.TraceID] = append(m[s.TraceID], s)
	}
	return m
}

// spanRange returns the range from the earliest start to the latest end.
func spanRange(spans []*model.Span) storage.TimeRange {
	var r storage.TimeRange
	for i, s := range spans {
		if i == 0 || s.StartUnixNano < r.Start {
			r.Start = s.StartUnixNano
		}
		if s.EndUnixNano > r.End {
			r.End = s.EndUnixNano
		}
	}
	return r
}

func unixNano(t time.Time) uint64 { return uint64(t.UnixNano()) }

// checkNotFound asserts that err is storage.ErrNotFound.
func checkNotFound(t testing.TB, what string, tr *model.Trace, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		n := 0
		if tr != nil {
			n = len(tr.Spans)
		}
		t.Errorf("%s: got %d spans, err %v; want storage.ErrNotFound", what, n, err)
	}
}
