package clew_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/api/clew"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func day() storage.TimeRange {
	return storage.TimeRange{Start: uint64(now.Add(-24 * time.Hour).UnixNano()), End: uint64(now.UnixNano())}
}

func TestBaselines(t *testing.T) {
	f := newFixture(t, clew.Options{})
	clock := now
	var mu sync.Mutex
	b := clew.NewBaselines(f.q, clew.BaselineOptions{Traces: 25, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }})
	ctx := context.Background()
	q := analysis.BaselineQuery{Service: "bank", Operation: "authorize", Range: day(), Exclude: must(model.ParseTraceID(slowTrace))}

	got, err := b.Baseline(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// The 25 newest traces with a bank span: the slow one (excluded) and
	// the usual ones 1 to 24 (bank 80-103 ms).
	if got.Count != 24 || got.P50 != 91*time.Millisecond || got.P99 != 103*time.Millisecond || len(got.Sorted) != 24 {
		t.Errorf("baseline = %d samples p50 %v p99 %v", got.Count, got.P50, got.P99)
	}
	finds := f.reader.finds.Load()

	// Cached: concurrent lookups within the TTL do not reach storage, and
	// excluding another trace lets the slow one count.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			other := q
			other.Exclude = model.TraceID{1}
			if b, err := b.Baseline(ctx, other); err != nil || b.Count != 25 || b.P99 != 900*time.Millisecond {
				t.Errorf("cached lookup: %+v %v", b, err)
			}
		})
	}
	wg.Wait()
	if n := f.reader.finds.Load(); n != finds {
		t.Errorf("%d searches within the TTL", n-finds)
	}

	// After the TTL it is fetched again.
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := b.Baseline(ctx, q); err != nil {
		t.Fatal(err)
	}
	if n := f.reader.finds.Load(); n != finds+1 {
		t.Errorf("%d searches after the TTL, want 1", n-finds)
	}

	// An operation with no spans has an empty baseline, not an error.
	if got, err := b.Baseline(ctx, analysis.BaselineQuery{Service: "bank", Operation: "refund", Range: day()}); err != nil || got.Count != 0 {
		t.Errorf("unknown operation: %+v %v", got, err)
	}
}

func TestBaselinesErrorsAreNotCached(t *testing.T) {
	f := newFixture(t, clew.Options{})
	b := clew.NewBaselines(f.q, clew.BaselineOptions{})
	bad := analysis.BaselineQuery{Service: "bank", Operation: "authorize", Range: storage.TimeRange{Start: 10, End: 5}}
	for range 2 {
		if _, err := b.Baseline(context.Background(), bad); err == nil {
			t.Fatal("invalid range accepted")
		}
	}
	if n := f.reader.finds.Load(); n != 0 {
		t.Errorf("%d searches for an invalid query", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Baseline(ctx, analysis.BaselineQuery{Service: "bank", Operation: "authorize", Range: day()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled lookup: %v", err)
	}
}
