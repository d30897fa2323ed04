package local

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	clock := newFakeClock(testEpoch)
	reg := prometheus.NewRegistry()
	opts := testOptions(clock)
	opts.Registerer = reg
	dir := t.TempDir()
	db := openManual(t, dir, opts)
	spans := gen(60, 10, 5, testEpoch.Add(-time.Minute))
	mustWrite(t, db, spans[:25])
	mustFlush(t, db)
	mustWrite(t, db, spans[25:])

	values := gather(t, reg)
	for _, name := range []string{
		"clew_storage_head_spans", "clew_storage_head_bytes", "clew_storage_blocks", "clew_storage_bytes",
		"clew_storage_head_cuts_total", "clew_storage_head_cut_duration_seconds", "clew_storage_compactions_total",
		"clew_storage_compactions_failed_total", "clew_storage_retention_deleted_blocks_total",
		"clew_storage_quarantined_blocks_total", "clew_storage_overloaded_writes_total", "clew_wal_fsyncs_total",
	} {
		if _, ok := values[name]; !ok {
			t.Errorf("metric %s not registered", name)
		}
	}
	if v := values["clew_storage_head_spans"]; v != 25 {
		t.Errorf("clew_storage_head_spans = %v, want 25", v)
	}
	if v := values["clew_storage_blocks"]; v != 1 {
		t.Errorf("clew_storage_blocks = %v, want 1", v)
	}
	if v := values["clew_storage_bytes"]; v != float64(db.diskBytes()) || v <= 0 {
		t.Errorf("clew_storage_bytes = %v, want %d", v, db.diskBytes())
	}
	if v := values["clew_storage_head_cuts_total"]; v != 1 {
		t.Errorf("clew_storage_head_cuts_total = %v, want 1", v)
	}

	// Close unregisters everything, so the directory reopens with the
	// same registry.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if left := gather(t, reg); len(left) != 0 {
		t.Errorf("metrics left registered after Close: %v", slices.Sorted(maps.Keys(left)))
	}
	db = openManual(t, dir, opts)
	if v := gather(t, reg)["clew_storage_head_spans"]; v != 25 {
		t.Errorf("after reopen clew_storage_head_spans = %v, want 25", v)
	}
}

// gather returns the value of each single-series gauge or counter (the sum
// over series otherwise, the sample count for histograms) by name.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		var v float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				v += float64(m.GetHistogram().GetSampleCount())
			}
		}
		out[mf.GetName()] = v
	}
	return out
}
