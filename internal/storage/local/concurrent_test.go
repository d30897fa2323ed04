package local

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// TestConcurrentWritesReadsCutsCompactions runs writers, readers, Flush and
// the background cut and compaction loops together (meant for -race), and
// checks that every acknowledged trace is always found whole.
func TestConcurrentWritesReadsCutsCompactions(t *testing.T) {
	opts := testOptions(newFakeClock(time.Now()))
	opts.Now = time.Now
	opts.HeadMaxSpans = 300
	opts.CompactionInterval = 20 * time.Millisecond
	db := openDB(t, t.TempDir(), opts)
	ctx := context.Background()

	const writers, batches, tracesPerBatch, spansPerTrace = 4, 25, 4, 5
	// Old enough that their compaction windows are complete.
	base := time.Now().Add(-3 * time.Hour)
	var (
		mu      sync.Mutex
		written []model.TraceID
		stop    atomic.Bool
		wg      sync.WaitGroup
		errs    = make(chan error, 16)
	)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				spans := gen(int64(1000+w*batches+i), tracesPerBatch, spansPerTrace, base.Add(time.Duration(i)*time.Second))
				if err := db.Write(ctx, spans); err != nil {
					if errors.Is(err, storage.ErrOverloaded) {
						time.Sleep(time.Millisecond)
						continue
					}
					fail(err)
					return
				}
				mu.Lock()
				for id := range byTrace(spans) {
					written = append(written, id)
				}
				mu.Unlock()
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for !stop.Load() {
				mu.Lock()
				if len(written) == 0 {
					mu.Unlock()
					continue
				}
				id := written[rng.IntN(len(written))]
				mu.Unlock()
				tr, err := db.Trace(ctx, id, storage.TimeRange{})
				if err != nil {
					fail(err)
					return
				}
				if len(tr.Spans) != spansPerTrace {
					fail(errors.New("trace " + id.String() + " found incomplete or duplicated"))
					return
				}
				if _, err := db.FindTraces(ctx, &storage.Query{Limit: 5}); err != nil {
					fail(err)
					return
				}
				if _, err := db.Services(ctx); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	readers.Go(func() {
		for !stop.Load() {
			if err := db.Flush(ctx); err != nil {
				fail(err)
				return
			}
			if _, err := db.Dependencies(ctx, storage.TimeRange{}); err != nil {
				fail(err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Let compaction settle, then check everything once more.
	if err := db.compact(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	ids := slices.Clone(written)
	mu.Unlock()
	for _, id := range ids {
		tr, err := db.Trace(ctx, id, storage.TimeRange{})
		if err != nil || len(tr.Spans) != spansPerTrace {
			t.Fatalf("trace %s after the run: %v", id, err)
		}
	}
	if err := db.Health(); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if testCounter(t, db.metrics.cuts) == 0 || testCounter(t, db.metrics.compactions) == 0 {
		t.Fatalf("the run had %v cuts and %v compactions; want both", testCounter(t, db.metrics.cuts), testCounter(t, db.metrics.compactions))
	}
}
