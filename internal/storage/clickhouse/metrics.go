package clickhouse

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the backend's Prometheus metrics.
type metrics struct {
	reg               prometheus.Registerer
	collectors        []prometheus.Collector
	inserts           prometheus.Counter
	insertErrors      prometheus.Counter
	insertSeconds     prometheus.Histogram
	spansWritten      prometheus.Counter
	pending           prometheus.Gauge
	overloaded        prometheus.Counter
	partitionsDropped prometheus.Counter
	edgeMinutesRolled prometheus.Counter
	rollupErrors      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg: reg,
		inserts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_inserts_total", Help: "Inserts ClickHouse accepted.",
		}),
		insertErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_insert_errors_total", Help: "Inserts that failed; their writers got a retryable error.",
		}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "clew_clickhouse_insert_seconds", Help: "Time of one insert, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
		spansWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_spans_written_total", Help: "Spans ClickHouse accepted.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clew_clickhouse_pending_spans", Help: "Spans waiting for an insert.",
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_overloaded_total", Help: "Writes refused because too many spans were waiting.",
		}),
		partitionsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_partitions_dropped_total", Help: "Day partitions dropped by retention.",
		}),
		edgeMinutesRolled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_edge_rollup_minutes_total", Help: "Minutes whose service edges this node rolled up.",
		}),
		rollupErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_clickhouse_edge_rollup_errors_total", Help: "Rounds of the edge rollup that failed; the next round retries.",
		}),
	}
	m.collectors = []prometheus.Collector{m.inserts, m.insertErrors, m.insertSeconds, m.spansWritten, m.pending, m.overloaded,
		m.partitionsDropped, m.edgeMinutesRolled, m.rollupErrors}
	if reg != nil {
		for _, c := range m.collectors {
			_ = reg.Register(c)
		}
	}
	return m
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
