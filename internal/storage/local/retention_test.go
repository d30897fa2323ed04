package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/clew-tracing/clew/internal/storage"
)

// testCounter reads a counter's value.
func testCounter(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestRetentionByAge(t *testing.T) {
	clock := newFakeClock(testEpoch)
	opts := testOptions(clock)
	opts.Retention = 24 * time.Hour
	db := openManual(t, t.TempDir(), opts)
	old := gen(30, 10, 4, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, old)
	mustFlush(t, db)
	oldBlock := blockIDs(db)[0]

	clock.Advance(23 * time.Hour)
	recent := gen(31, 10, 4, clock.Now().Add(-10*time.Minute))
	mustWrite(t, db, recent)
	mustFlush(t, db)
	db.applyRetention()
	if n := len(blockIDs(db)); n != 2 {
		t.Fatalf("%d blocks before the old one expired, want 2", n)
	}

	clock.Advance(2 * time.Hour)
	db.applyRetention()
	ids := blockIDs(db)
	if len(ids) != 1 || ids[0] == oldBlock {
		t.Fatalf("blocks after retention = %v, want only the recent one", ids)
	}
	if _, err := os.Stat(filepath.Join(db.blocksDir, oldBlock)); !os.IsNotExist(err) {
		t.Fatalf("expired block still on disk: %v", err)
	}
	if _, err := db.Trace(context.Background(), old[0].TraceID, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired trace: %v, want ErrNotFound", err)
	}
	checkTraces(t, db, recent)
	if got := testCounter(t, db.metrics.retentionDeleted.WithLabelValues(reasonAge)); got != 1 {
		t.Errorf("retention_deleted{age} = %v, want 1", got)
	}
}

func TestRetentionForever(t *testing.T) {
	clock := newFakeClock(testEpoch)
	opts := testOptions(clock)
	opts.Retention = -1
	db := openManual(t, t.TempDir(), opts)
	spans := gen(32, 5, 4, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, spans)
	mustFlush(t, db)
	clock.Advance(10 * 365 * 24 * time.Hour)
	db.applyRetention()
	checkTraces(t, db, spans)
}

func TestRetentionMaxDiskBytes(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	a := gen(33, 10, 4, testEpoch.Add(-30*time.Minute))
	b := gen(34, 10, 4, testEpoch.Add(-20*time.Minute))
	c := gen(35, 10, 4, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, a)
	mustFlush(t, db)
	mustWrite(t, db, b)
	mustFlush(t, db)
	mustWrite(t, db, c)
	mustFlush(t, db)

	db.mu.RLock()
	var oldest *blockHandle
	for _, h := range db.blocks {
		if oldest == nil || h.meta.MaxTime < oldest.meta.MaxTime {
			oldest = h
		}
	}
	db.mu.RUnlock()
	// Just enough room for everything but the oldest block.
	db.opts.MaxDiskBytes = db.diskBytes() - oldest.meta.Bytes
	db.applyRetention()
	if n := len(blockIDs(db)); n != 2 {
		t.Fatalf("%d blocks after the size cap, want 2", n)
	}
	if _, err := db.Trace(context.Background(), a[0].TraceID, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("trace of the oldest block: %v, want ErrNotFound", err)
	}
	checkTraces(t, db, b)
	checkTraces(t, db, c)
	if got := testCounter(t, db.metrics.retentionDeleted.WithLabelValues(reasonSize)); got != 1 {
		t.Errorf("retention_deleted{size} = %v, want 1", got)
	}
	if got := db.diskBytes(); got > db.opts.MaxDiskBytes {
		t.Errorf("%d bytes on disk, above the cap %d", got, db.opts.MaxDiskBytes)
	}
}
