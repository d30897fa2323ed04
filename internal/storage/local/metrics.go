package local

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the DB's Prometheus collectors. They always exist, so the
// code never checks for nil; they are exported only when a Registerer is
// given, and unregistered on Close so that a directory can be reopened
// with the same registerer.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	headSpans          prometheus.GaugeFunc
	headBytes          prometheus.GaugeFunc
	blocks             prometheus.GaugeFunc
	storageBytes       prometheus.GaugeFunc
	cuts               prometheus.Counter
	cutsFailed         prometheus.Counter
	cutDuration        prometheus.Histogram
	compactions        prometheus.Counter
	compactionsFailed  prometheus.Counter
	compactionDuration prometheus.Histogram
	retentionDeleted   *prometheus.CounterVec
	quarantined        prometheus.Counter
	overloaded         prometheus.Counter
	badRecords         prometheus.Counter
}

// newMetrics creates the collectors, reading live values from db, and
// registers them with reg if it is not nil. On error nothing stays
// registered.
func newMetrics(reg prometheus.Registerer, db *DB) (*metrics, error) {
	durations := prometheus.ExponentialBuckets(0.01, 2, 14) // 10ms to ~80s
	m := &metrics{
		reg: reg,
		headSpans: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "clew_storage_head_spans",
			Help: "Spans held in memory by the head (including a head being cut into a block).",
		}, func() float64 { return float64(db.headStats().spans) }),
		headBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "clew_storage_head_bytes",
			Help: "Approximate memory of the spans held by the head (including a head being cut into a block).",
		}, func() float64 { return float64(db.headStats().bytes) }),
		blocks: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "clew_storage_blocks",
			Help: "Blocks currently served.",
		}, func() float64 { return float64(db.blockStats().count) }),
		storageBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "clew_storage_bytes",
			Help: "Bytes on disk of the blocks and the WAL, the quantity MaxDiskBytes bounds.",
		}, func() float64 { return float64(db.diskBytes()) }),
		cuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_head_cuts_total",
			Help: "Heads written into level-0 blocks.",
		}),
		cutsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_head_cuts_failed_total",
			Help: "Attempts to write a head into a block that failed (they are retried).",
		}),
		cutDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "clew_storage_head_cut_duration_seconds",
			Help:    "Time to write a head into a block and open it.",
			Buckets: durations,
		}),
		compactions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_compactions_total",
			Help: "Compactions that replaced their source blocks.",
		}),
		compactionsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_compactions_failed_total",
			Help: "Compactions that failed; their sources are kept.",
		}),
		compactionDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "clew_storage_compaction_duration_seconds",
			Help:    "Time to write one compacted block.",
			Buckets: durations,
		}),
		retentionDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_storage_retention_deleted_blocks_total",
			Help: "Blocks deleted by retention, by reason: age (Retention) or size (MaxDiskBytes).",
		}, []string{"reason"}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_quarantined_blocks_total",
			Help: "Corrupt blocks moved into the quarantine directory.",
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_overloaded_writes_total",
			Help: "Writes refused with ErrOverloaded because the head was full while a cut was running.",
		}),
		badRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_storage_wal_bad_records_total",
			Help: "WAL records that passed their checksum but could not be decoded on replay, and were skipped.",
		}),
	}
	// NB: pre-create the label values so that the series exist at 0.
	m.retentionDeleted.WithLabelValues(reasonAge)
	m.retentionDeleted.WithLabelValues(reasonSize)
	m.collectors = []prometheus.Collector{
		m.headSpans, m.headBytes, m.blocks, m.storageBytes,
		m.cuts, m.cutsFailed, m.cutDuration,
		m.compactions, m.compactionsFailed, m.compactionDuration,
		m.retentionDeleted, m.quarantined, m.overloaded, m.badRecords,
	}
	if reg == nil {
		return m, nil
	}
	var registered []prometheus.Collector
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, r := range registered {
				reg.Unregister(r)
			}
			return nil, fmt.Errorf("local: register metrics: %w", err)
		}
		registered = append(registered, c)
	}
	return m, nil
}

// unregister removes the collectors from the registerer.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

// Retention deletion reasons, the label values of
// clew_storage_retention_deleted_blocks_total.
const (
	reasonAge  = "age"
	reasonSize = "size"
)
