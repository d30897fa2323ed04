package query

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Reader is what the query layer needs from a backend: every
// [storage.Backend] is one. It is narrower than Backend so that a
// read-only replica or a test fake need not implement Write.
type Reader interface {
	storage.TraceReader
	storage.CatalogReader
	storage.DependencyReader
}

// DefaultFetchConcurrency is how many traces FindTracesFull and Traces
// fetch at once when Options.FetchConcurrency is 0: enough to hide a
// backend's per-trace latency without letting one search monopolise it.
const DefaultFetchConcurrency = 8

// Options configures a [Service]. The zero value is usable.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the query metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock the APIs use to resolve "the last hour" and default
	// end times; nil means time.Now. Tests set it to get stable windows.
	Now func() time.Time
	// FetchConcurrency bounds the traces fetched at once for one request;
	// 0 means DefaultFetchConcurrency.
	FetchConcurrency int
}

// Validate reports options that New cannot work with.
func (o *Options) Validate() error {
	if o.FetchConcurrency < 0 {
		return fmt.Errorf("fetch concurrency %d is negative", o.FetchConcurrency)
	}
	return nil
}

// EnsureDefaults fills in the zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FetchConcurrency == 0 {
		o.FetchConcurrency = DefaultFetchConcurrency
	}
}

// Service answers the APIs' questions from one backend. It is safe for
// concurrent use.
type Service struct {
	reader  Reader
	logger  *slog.Logger
	now     func() time.Time
	fetch   int
	metrics *metrics
}

// New returns a Service reading from r. It fails when the options are
// invalid or the metrics cannot be registered (for example twice on one
// registerer).
func New(r Reader, opts Options) (*Service, error) {
	if r == nil {
		return nil, errors.New("query: nil reader")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	opts.EnsureDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("query: register metrics: %w", err)
	}
	return &Service{
		reader:  r,
		logger:  opts.Logger,
		now:     opts.Now,
		fetch:   opts.FetchConcurrency,
		metrics: m,
	}, nil
}

// Now returns the current time by the service's clock. APIs resolve
// relative windows (lookback, default end) with it, never with time.Now,
// so that tests control time in one place.
func (s *Service) Now() time.Time { return s.now() }
