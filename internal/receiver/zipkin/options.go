package zipkin

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied by [Options.EnsureDefaults].
const (
	// DefaultMaxRequestBytes bounds a request body, before and after
	// decompression.
	DefaultMaxRequestBytes = 20 << 20
	// DefaultRetryAfter is the Retry-After given on overload.
	DefaultRetryAfter = time.Second
)

// Options configure a [Receiver]. The zero value is usable.
type Options struct {
	// MaxRequestBytes bounds a request body, compressed and decompressed;
	// larger bodies get 413. Default DefaultMaxRequestBytes.
	MaxRequestBytes int64

	// RetryAfter is the delay suggested to clients refused for overload or
	// storage trouble. Default DefaultRetryAfter.
	RetryAfter time.Duration

	// Logger receives a line for each request with refused spans (Zipkin
	// clients are not told) and storage failures. Default slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills in zero fields and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxRequestBytes %d is negative", o.MaxRequestBytes))
	}
	if o.RetryAfter < 0 {
		errs = append(errs, fmt.Errorf("RetryAfter %s is negative", o.RetryAfter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("zipkin receiver options: %w", err)
	}
	return nil
}
