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

	// Storage selects the backend: "local" (embedded engine), "clickhouse"
	// (a ClickHouse server or cluster; see ClickHouse) or "memory" (not
	// durable; for experiments and tests).
	Storage string

	// ClickHouse configures the clickhouse backend.
	ClickHouse ClickHouseConfig

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

// ClickHouseConfig is the part of Config that only --storage=clickhouse
// reads. Retention comes from Config.Retention.
type ClickHouseConfig struct {
	// DSN is the native-protocol address, e.g.
	// clickhouse://user:pass@ch1:9000,ch2:9000/db.
	DSN string
	// Database holds Clew's tables (created and migrated on start).
	Database string
	// Cluster, when set, makes DDL run ON CLUSTER with replicated tables
	// and Distributed tables on top.
	Cluster string
	// ReplicaPath is the ZooKeeper path prefix of replicated tables
	// ("" for the default, /clickhouse/tables/{shard}).
	ReplicaPath string
	// BatchSize and FlushInterval shape inserts: a batch goes at
	// BatchSize spans or after FlushInterval.
	BatchSize     int
	FlushInterval time.Duration
	// EdgeRollupInterval is how often this node rolls up service-graph
	// edges (negative disables it on this node); EdgeRollupSettle how long
	// a minute must go without writes before it is rolled up. Zero means
	// the backend's default.
	EdgeRollupInterval time.Duration
	EdgeRollupSettle   time.Duration
	// InsertQuorum above 1 acknowledges writes only once that many
	// replicas have them.
	InsertQuorum int
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
		ClickHouse: ClickHouseConfig{
			Database:      "clew",
			BatchSize:     10_000,
			FlushInterval: 500 * time.Millisecond,
		},
	}
}

// Validate reports a configuration that cannot run.
func (c *Config) Validate() error {
	var errs []error
	switch c.Storage {
	case "local", "memory":
	case "clickhouse":
		if c.ClickHouse.DSN == "" {
			errs = append(errs, errors.New("storage clickhouse needs --clickhouse-dsn"))
		}
		if c.ClickHouse.BatchSize < 0 || c.ClickHouse.FlushInterval < 0 || c.ClickHouse.InsertQuorum < 0 || c.ClickHouse.EdgeRollupSettle < 0 {
			errs = append(errs, errors.New("clickhouse batch size, flush interval, insert quorum and edge rollup settle must not be negative"))
		}
	default:
		errs = append(errs, fmt.Errorf("storage %q: want local, clickhouse or memory", c.Storage))
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
