package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clew-tracing/clew/internal/storage"
)

// Protocol outcomes that receivers turn into status codes.
var (
	// ErrOverloaded means the request was refused because too many bytes
	// are in flight or storage cannot keep up. It is retryable: receivers
	// answer HTTP 429 or gRPC ResourceExhausted with a retry delay.
	ErrOverloaded = errors.New("ingest overloaded")
	// ErrTooOld is the reason for spans that ended before the retention
	// window; the error Check returns names the window too.
	ErrTooOld = errors.New("older than retention")
	// ErrTooManySpans means a request held more spans than
	// Options.MaxSpansPerRequest; the client must send smaller batches.
	ErrTooManySpans = errors.New("too many spans in request")
	// ErrMalformed is the reason receivers give for a span that could not
	// be decoded or translated while its neighbours could (Zipkin batches).
	ErrMalformed = errors.New("malformed span")
)

// Ingester checks spans and writes them to storage on behalf of every
// receiver. It is safe for concurrent use.
type Ingester struct {
	w    storage.Writer
	opts Options
	log  *slog.Logger
	m    *metrics

	// errTooOld wraps ErrTooOld with the window, built once so that every
	// too-old span of a request shares one message (Batch groups by it).
	errTooOld error

	inflight atomic.Int64
}

// New returns an Ingester writing to w. opts is copied; zero fields take
// their defaults.
func New(w storage.Writer, opts Options) (*Ingester, error) {
	if w == nil {
		return nil, errors.New("ingest: nil storage writer")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	in := &Ingester{
		w:         w,
		opts:      opts,
		log:       opts.Logger,
		errTooOld: fmt.Errorf("%w %s", ErrTooOld, formatDuration(opts.Retention)),
	}
	m, err := newMetrics(opts.Registerer, func() float64 { return float64(in.inflight.Load()) })
	if err != nil {
		return nil, err
	}
	in.m = m
	return in, nil
}

// Options returns the options in use, defaults filled in.
func (in *Ingester) Options() Options { return in.opts }

// CheckRequest reports whether a request of n spans may be processed at
// all. Receivers call it before converting, so an oversized request is
// refused whole (it would be refused again if retried, so the error is
// not retryable).
func (in *Ingester) CheckRequest(n int) error {
	if max := in.opts.MaxSpansPerRequest; max > 0 && n > max {
		return fmt.Errorf("%w: %d spans, limit %d", ErrTooManySpans, n, max)
	}
	return nil
}

// Consume counts b and writes its spans to storage, returning only once
// they are durable. A storage.ErrOverloaded from the backend comes back
// wrapped in ErrOverloaded, so receivers test for one error. A batch with
// no spans is counted but not written.
func (in *Ingester) Consume(ctx context.Context, b *Batch) error {
	proto := b.Protocol
	in.m.requestBytes.WithLabelValues(proto).Add(float64(b.Bytes))
	in.m.received.WithLabelValues(proto).Add(float64(len(b.Spans) + b.rejected))
	for label, n := range b.labels {
		in.m.rejected.WithLabelValues(proto, label).Add(float64(n))
	}
	if b.rejected > 0 {
		in.log.Debug("spans rejected", "protocol", proto, "reason", b.Message())
	}
	n := len(b.Spans)
	if n == 0 {
		return nil
	}
	start := time.Now()
	err := in.w.Write(ctx, b.Spans)
	in.m.latency.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		in.m.accepted.WithLabelValues(proto).Add(float64(n))
		return nil
	case errors.Is(err, storage.ErrOverloaded):
		in.m.overloaded.Inc()
		in.m.rejected.WithLabelValues(proto, reasonOverloaded).Add(float64(n))
		return fmt.Errorf("%w: write %d spans: %w", ErrOverloaded, n, err)
	case ctx.Err() != nil:
		in.m.rejected.WithLabelValues(proto, reasonCanceled).Add(float64(n))
		return fmt.Errorf("write %d spans: %w", n, err)
	default:
		in.m.rejected.WithLabelValues(proto, reasonStorage).Add(float64(n))
		return fmt.Errorf("write %d spans: %w", n, err)
	}
}

// formatDuration prints d the way people write retention ("168h", "90m",
// "1h30m") rather than time.Duration's "168h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	for _, zero := range []string{"0s", "0m"} {
		t, ok := strings.CutSuffix(s, zero)
		// Strip only a zero unit ("1h0m"), never the 0 of "10s".
		if ok && t != "" && (t[len(t)-1] == 'h' || t[len(t)-1] == 'm') {
			s = t
		}
	}
	return s
}
