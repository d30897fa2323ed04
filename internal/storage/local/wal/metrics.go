package wal

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Log's Prometheus collectors. They always exist, so the
// code never checks for nil; they are exported only when a Registerer is
// given.
type metrics struct {
	reg           prometheus.Registerer
	fsyncs        prometheus.Counter
	fsyncDuration prometheus.Histogram
	bytesWritten  prometheus.Counter
	corruptions   prometheus.Counter
	segments      prometheus.Gauge
}

// newMetrics creates the collectors and registers them with reg if it is
// not nil. On error nothing stays registered.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		fsyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_wal_fsyncs_total",
			Help: "Number of fsync calls on WAL segment files.",
		}),
		fsyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "clew_wal_fsync_duration_seconds",
			Help: "Duration of fsync calls on WAL segment files.",
			// 100µs to ~6.5s: from NVMe to a struggling network disk.
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
		bytesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_wal_bytes_written_total",
			Help: "Bytes written to WAL segment files, framing and headers included.",
		}),
		corruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_wal_corruptions_total",
			Help: "Torn or corrupt records and headers found by WAL replay.",
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clew_wal_segments",
			Help: "Number of WAL segment files on disk.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var registered []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, r := range registered {
				reg.Unregister(r)
			}
			return nil, fmt.Errorf("wal: register metrics: %w", err)
		}
		registered = append(registered, c)
	}
	return m, nil
}

// collectors lists every collector, for registration.
func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.fsyncs, m.fsyncDuration, m.bytesWritten, m.corruptions, m.segments}
}

// unregister removes the collectors from the registerer, if any, so that
// the directory can be reopened with the same registerer.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}
