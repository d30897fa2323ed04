package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received     *prometheus.CounterVec
	accepted     *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	requestBytes *prometheus.CounterVec
	latency      prometheus.Histogram
	overloaded   prometheus.Counter
	truncated    prometheus.Counter
}

// newMetrics builds the Ingester's metrics and registers them on reg
// (nothing when reg is nil). inflight is read at scrape time.
func newMetrics(reg prometheus.Registerer, inflight func() float64) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_receiver_spans_received_total",
			Help: "Spans received, by protocol: accepted plus rejected.",
		}, []string{"protocol"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_receiver_spans_accepted_total",
			Help: "Spans written durably to storage, by protocol.",
		}, []string{"protocol"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_receiver_spans_rejected_total",
			Help: "Spans refused, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		requestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_receiver_request_bytes_total",
			Help: "Decompressed bytes of decoded requests, by protocol.",
		}, []string{"protocol"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "clew_ingest_latency_seconds",
			Help:    "Time storage took to make a batch durable.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_ingest_overloaded_total",
			Help: "Requests refused because too many bytes were in flight or storage was overloaded.",
		}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clew_ingest_attribute_values_truncated_total",
			Help: "Attribute values cut to MaxAttributeValueBytes.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.received, m.accepted, m.rejected, m.requestBytes, m.latency, m.overloaded, m.truncated,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "clew_ingest_inflight_bytes",
			Help: "Bytes of requests currently being decoded or written.",
		}, inflight),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ingest: register metrics: %w", err)
		}
	}
	return m, nil
}
