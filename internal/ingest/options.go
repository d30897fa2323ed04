package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by [Options.EnsureDefaults].
const (
	// DefaultMaxInFlightBytes bounds request bytes held at once. 64 MiB
	// leaves room for a few maximum-size requests while keeping the worst
	// case (decoded spans are a few times larger than their wire form)
	// well under a small container's memory.
	DefaultMaxInFlightBytes = 64 << 20
	// DefaultMaxAttributeValueBytes is the longest string or bytes
	// attribute value kept. Longer values are nearly always accidents
	// (a whole response body in a tag) and bloat every block they land in.
	DefaultMaxAttributeValueBytes = 64 << 10
)

// Options configure an [Ingester]. The zero value is usable: New fills in
// defaults.
type Options struct {
	// MaxInFlightBytes bounds the bytes of requests currently being
	// decoded or written. A request that would pass it is refused with
	// ErrOverloaded. Default DefaultMaxInFlightBytes.
	MaxInFlightBytes int64

	// Retention, when positive, rejects spans that ended before
	// Now()-Retention: storage would drop them at once, and accepting them
	// would make a client believe they were kept. Zero disables the check.
	Retention time.Duration

	// MaxAttributeValueBytes truncates longer string and bytes attribute
	// values (of spans, events, links, resources and scopes), at a UTF-8
	// boundary for strings. Default DefaultMaxAttributeValueBytes.
	MaxAttributeValueBytes int

	// MaxSpansPerRequest, when positive, refuses whole requests with more
	// spans (see [Ingester.CheckRequest]). Zero means no limit beyond the
	// receivers' byte limits.
	MaxSpansPerRequest int

	// Now returns the current time, for the retention check. Default
	// time.Now; tests pass a fixed clock.
	Now func() time.Time

	// Logger receives debug lines about rejected spans. Default
	// slog.Default().
	Logger *slog.Logger

	// Registerer receives the package's metrics. Nil registers nothing,
	// which suits tests and tools that embed an Ingester.
	Registerer prometheus.Registerer
}

// EnsureDefaults fills in zero fields with their defaults and returns o,
// so that callers can inspect the values an Ingester will use.
func (o *Options) EnsureDefaults() *Options {
	if o.MaxInFlightBytes == 0 {
		o.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if o.MaxAttributeValueBytes == 0 {
		o.MaxAttributeValueBytes = DefaultMaxAttributeValueBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Validate reports options that cannot work. It is called after defaults
// are filled in, so zero values are not errors.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxInFlightBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxInFlightBytes %d is negative", o.MaxInFlightBytes))
	}
	if o.Retention < 0 {
		errs = append(errs, fmt.Errorf("Retention %s is negative", o.Retention))
	}
	if o.MaxAttributeValueBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxAttributeValueBytes %d is negative", o.MaxAttributeValueBytes))
	}
	if o.MaxSpansPerRequest < 0 {
		errs = append(errs, fmt.Errorf("MaxSpansPerRequest %d is negative", o.MaxSpansPerRequest))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ingest options: %w", err)
	}
	return nil
}
