package ingest

import (
	"context"
	"errors"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

func TestAcquire(t *testing.T) {
	in, reg := newTestIngester(t, &storagetest.Recorder{}, Options{MaxInFlightBytes: 100})
	r1, err := in.Acquire(60)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := in.Acquire(40)
	if err != nil {
		t.Fatal(err)
	}
	if got := metricValue(reg, "clew_ingest_inflight_bytes", nil); got != 100 {
		t.Fatalf("inflight gauge = %v, want 100", got)
	}
	r3, err := in.Acquire(1)
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Acquire past the budget: %v", err)
	}
	r3() // a no-op, safe to call
	if got := metricValue(reg, "clew_ingest_overloaded_total", nil); got != 1 {
		t.Fatalf("overloaded = %v, want 1", got)
	}
	r1()
	r1() // twice gives back only once
	if got := in.InFlightBytes(); got != 40 {
		t.Fatalf("in flight = %d, want 40", got)
	}
	r2()
	if got := in.InFlightBytes(); got != 0 {
		t.Fatalf("in flight = %d, want 0", got)
	}
}

func TestAcquireLoneOversizedRequest(t *testing.T) {
	in, _ := newTestIngester(t, &storagetest.Recorder{}, Options{MaxInFlightBytes: 100})
	r, err := in.Acquire(500)
	if err != nil {
		t.Fatalf("lone oversized request refused: %v", err)
	}
	if _, err := in.Acquire(1); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("second request admitted past the budget: %v", err)
	}
	r()
}

func TestAcquireHeldDuringBlockedWrite(t *testing.T) {
	w := &storagetest.Recorder{}
	entered := w.Hold(true)
	in, _ := newTestIngester(t, w, Options{MaxInFlightBytes: 100})
	done := make(chan error)
	go func() {
		release, err := in.Acquire(80)
		if err != nil {
			done <- err
			return
		}
		err = in.Consume(context.Background(), &Batch{Protocol: "test", Spans: []*model.Span{validSpan(1)}})
		// NB: release before reporting, or the test's next Acquire can
		// run before a deferred release and see the budget still taken.
		release()
		done <- err
	}()
	<-entered
	if _, err := in.Acquire(80); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Acquire while a write holds the budget: %v", err)
	}
	w.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, err := in.Acquire(80)
	if err != nil {
		t.Fatalf("Acquire after the write returned: %v", err)
	}
	r()
}
