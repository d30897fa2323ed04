package otlp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Defaults applied by [Options.EnsureDefaults].
const (
	// DefaultMaxRequestBytes bounds an OTLP/HTTP body, before and after
	// decompression. The OTel SDKs cap their batches well below it.
	DefaultMaxRequestBytes = 20 << 20
	// DefaultRetryAfter is the delay suggested to clients refused for
	// overload, in Retry-After and gRPC RetryInfo.
	DefaultRetryAfter = time.Second
	// DefaultMaxRecvMsgSize is NewGRPCServer's message limit.
	DefaultMaxRecvMsgSize = 16 << 20
)

// Options configure a [Receiver]. The zero value is usable.
type Options struct {
	// MaxRequestBytes bounds an OTLP/HTTP request body, compressed and
	// decompressed; larger bodies get 413. Default DefaultMaxRequestBytes.
	// The gRPC limit is the server's (see NewGRPCServer).
	MaxRequestBytes int64

	// AllowedOrigins lists the browser origins ("https://app.example.com")
	// allowed to send OTLP/HTTP, or "*" for any. Empty disables CORS: no
	// CORS headers are sent and OPTIONS is not answered.
	AllowedOrigins []string

	// RetryAfter is the delay suggested to clients refused for overload
	// or storage trouble. Default DefaultRetryAfter.
	RetryAfter time.Duration

	// Logger receives storage failures and other server-side trouble.
	// Default slog.Default().
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
	for _, origin := range o.AllowedOrigins {
		if err := validateOrigin(origin); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("otlp receiver options: %w", err)
	}
	return nil
}

// validateOrigin accepts "*" and scheme://host[:port], the form browsers
// send in Origin; anything else could never match.
func validateOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("AllowedOrigins: %q is not \"*\" or scheme://host[:port]", origin)
	}
	return nil
}
