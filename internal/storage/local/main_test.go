package local

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEpoch is a whole hour, so that compaction windows start on it.
var testEpoch = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

// testOptions returns options with a fake clock, a discarding logger and a
// private registry.
func testOptions(clock *fakeClock) Options {
	return Options{
		Now:        clock.Now,
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry(),
	}
}

// openManual opens a DB whose background goroutines are stopped at once,
// so that a test drives cuts, compaction and retention itself.
func openManual(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db := openDB(t, dir, opts)
	db.stopBackground()
	return db
}

// openDB opens a DB that is closed when the test ends.
func openDB(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// crash abandons a DB the way a killed process would: background work
// stops, files are closed, nothing is flushed or cut. Every acknowledged
// write is already durable (FsyncAlways), which is what the test checks.
func crash(t testing.TB, db *DB) {
	t.Helper()
	db.stopBackground()
	db.lifeMu.Lock()
	db.closed = true
	db.lifeMu.Unlock()
	if err := db.wal.Close(); err != nil {
		t.Fatalf("close wal: %v", err)
	}
	db.releaseAllBlocks()
	db.metrics.unregister()
}

// mustWrite writes spans or fails the test.
func mustWrite(t testing.TB, db storage.Writer, spans []*model.Span) {
	t.Helper()
	if err := db.Write(context.Background(), spans); err != nil {
		t.Fatalf("Write(%d spans): %v", len(spans), err)
	}
}

// mustFlush flushes or fails the test.
func mustFlush(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// byTrace groups spans by trace.
func byTrace(spans []*model.Span) map[model.TraceID][]*model.Span {
	m := make(map[model.TraceID][]*model.Span)
	for _, s := range spans {
		m[s.TraceID] = append(m[s.TraceID], s)
	}
	return m
}

// checkTraces asserts that every trace of want is found complete.
func checkTraces(t testing.TB, db storage.TraceReader, want []*model.Span) {
	t.Helper()
	for id, spans := range byTrace(want) {
		tr, err := db.Trace(context.Background(), id, storage.TimeRange{})
		if err != nil {
			t.Fatalf("Trace(%s): %v", id, err)
		}
		if d := storagetest.DiffSpans(spans, tr.Spans); d != "" {
			t.Fatalf("Trace(%s) differs:\n%s", id, d)
		}
	}
}

// reference returns a memstore holding spans, the expected answers.
func reference(t testing.TB, spans ...[]*model.Span) *memstore.Store {
	t.Helper()
	ref := memstore.New()
	for _, s := range spans {
		mustWrite(t, ref, s)
	}
	return ref
}

// blockIDs returns the IDs of the DB's blocks, sorted.
func blockIDs(db *DB) []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	ids := make([]string, len(db.blocks))
	for i, h := range db.blocks {
		ids[i] = h.meta.ID
	}
	slices.Sort(ids)
	return ids
}

// gen makes n traces of k spans starting at start.
func gen(seed int64, n, k int, start time.Time) []*model.Span {
	return storagetest.GenerateTraces(seed, n, k, start)
}
