package query

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Error reasons counted by clew_query_errors_total. Not-found is an answer,
// not an error, and is not counted.
const (
	reasonBadRequest = "bad_request"
	reasonCanceled   = "canceled"
	reasonInternal   = "internal"
)

type metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "clew_query_duration_seconds",
			Help: "Time to answer one query-layer call, by API endpoint.",
			// 1 ms to about 33 s: catalog lookups are fast, full-trace
			// searches over a week of blocks are not.
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"endpoint"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clew_query_errors_total",
			Help: "Query-layer calls that failed, by API endpoint and reason (bad_request, canceled, internal).",
		}, []string{"endpoint", "reason"}),
	}
	if reg != nil {
		if err := reg.Register(m.duration); err != nil {
			return nil, err
		}
		if err := reg.Register(m.errors); err != nil {
			reg.Unregister(m.duration)
			return nil, err
		}
	}
	return m, nil
}

// finish records one call that started at start and ended with err.
func (s *Service) finish(ctx context.Context, method string, start time.Time, err error) {
	endpoint := endpointOf(ctx, method)
	s.metrics.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	if err == nil || errors.Is(err, ErrNotFound) {
		return
	}
	reason := reasonInternal
	switch {
	case IsBadRequest(err):
		reason = reasonBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		reason = reasonCanceled
	}
	s.metrics.errors.WithLabelValues(endpoint, reason).Inc()
	if reason == reasonInternal {
		s.logger.LogAttrs(ctx, slog.LevelError, "query failed",
			slog.String("endpoint", endpoint), slog.String("method", method), slog.Any("err", err))
	}
}
