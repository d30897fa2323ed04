package server

import (
	"errors"
	"fmt"
	"time"
)

// Config is everything `clew serve` can be told. The zero value is not
// usable; start from DefaultConfig.
type Config struct {
	// DataDir holds the embedded engine's WAL and blocks.
	DataDir string
	// Listen addresses; "" disables that listener.
	OTLPGRPCAddr string
	OTLPHTTPAddr string
	ZipkinAddr   string
	HTTPAddr     string

	// Storage selects the backend: "local" (embedded engine) or "memory"
	// (not durable; for experiments and tests).
	Storage string

	// WALFsync is "always" (acknowledge after fsync, with group commit) or
	// "interval" (fsync every WALFsyncInterval).
	WALFsync         string
	WALFsyncInterval time.Duration
	Retention        time.Duration
	MaxDiskBytes     int64

	// Head limits of the embedded engine: the head is cut into a block
	// when it holds HeadMaxSpans spans or its oldest span is HeadMaxAge
	// old; past HeadMaxBytes of memory writes are refused as overload.
	HeadMaxSpans int
	HeadMaxAge   time.Duration
	HeadMaxBytes int64

	// MemoryLimit is the Go heap's soft limit (runtime/debug.SetMemoryLimit),
	// applied by cmd/clew because it is process-wide; 0 means none.
	MemoryLimit int64

	// Receiver limits.
	GRPCMaxRecvMsgBytes int
	HTTPMaxBodyBytes    int64
	MaxInFlightBytes    int64
	CORSAllowedOrigins  []string

	// OwnersFile is an ownership YAML file (service name or glob → team,
	// contact, runbook) read by /api/clew; "" reads owners from resource
	// attributes only.
	OwnersFile string
}

// DefaultConfig returns the configuration of a Jaeger all-in-one-like
// installation: the well-known ports and a data directory in the working
// directory.
func DefaultConfig() Config {
	return Config{
		DataDir:             "./clew-data",
		OTLPGRPCAddr:        ":4317",
		OTLPHTTPAddr:        ":4318",
		ZipkinAddr:          ":9411",
		HTTPAddr:            ":16686",
		Storage:             "local",
		WALFsync:            "always",
		WALFsyncInterval:    time.Second,
		Retention:           7 * 24 * time.Hour,
		HeadMaxSpans:        500_000,
		HeadMaxAge:          2 * time.Minute,
		HeadMaxBytes:        256 << 20,
		MemoryLimit:         768 << 20,
		GRPCMaxRecvMsgBytes: 16 << 20,
		HTTPMaxBodyBytes:    20 << 20,
		MaxInFlightBytes:    64 << 20,
	}
}

// Validate reports a configuration that cannot run.
func (c *Config) Validate() error {
	var errs []error
	switch c.Storage {
	case "local", "memory":
	default:
		errs = append(errs, fmt.Errorf("storage %q: want local or memory", c.Storage))
	}
	switch c.WALFsync {
	case "always", "interval":
	default:
		errs = append(errs, fmt.Errorf("wal-fsync %q: want always or interval", c.WALFsync))
	}
	if c.Storage == "local" && c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must be set for local storage"))
	}
	if c.Retention < 0 {
		errs = append(errs, errors.New("retention must not be negative (0 keeps forever)"))
	}
	if c.GRPCMaxRecvMsgBytes <= 0 || c.HTTPMaxBodyBytes <= 0 || c.MaxInFlightBytes <= 0 {
		errs = append(errs, errors.New("size limits must be positive"))
	}
	return errors.Join(errs...)
}
