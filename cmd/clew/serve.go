package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/clew-tracing/clew/demo/shop"
	"github.com/clew-tracing/clew/internal/server"
)

// serve runs `clew serve` until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, level, demoOpts, err := parseServeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "clew serve: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	// NB: a soft memory limit makes the garbage collector work harder as
	// the heap nears it instead of letting RSS float to twice the live
	// heap under full ingest. GOMEMLIMIT, when set, wins.
	if cfg.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("clew started", "version", version, "data_dir", cfg.DataDir, "storage", cfg.Storage)
	run := srv.Run
	if demoOpts != nil {
		run = func(ctx context.Context) error { return runWithDemo(ctx, srv, *demoOpts, log) }
	}
	if err := run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	log.Info("clew stopped")
	return 0
}

// parseServeFlags turns the command line, CLEW_* environment variables and
// an optional YAML file into a server configuration, and, with --demo, the
// options of the demo shop to run beside it (nil without).
func parseServeFlags(args []string, stderr io.Writer) (server.Config, slog.Level, *shop.Options, error) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("clew serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "YAML file with flag values (keys are flag names); flags and CLEW_* environment variables override it")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded storage engine")
	fs.StringVar(&cfg.OTLPGRPCAddr, "otlp-grpc-addr", cfg.OTLPGRPCAddr, `OTLP/gRPC listen address ("" disables)`)
	fs.StringVar(&cfg.OTLPHTTPAddr, "otlp-http-addr", cfg.OTLPHTTPAddr, `OTLP/HTTP listen address ("" disables)`)
	fs.StringVar(&cfg.ZipkinAddr, "zipkin-addr", cfg.ZipkinAddr, `Zipkin collector and query API listen address ("" disables)`)
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, `UI, query APIs, /metrics and health listen address ("" disables)`)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.Storage, "storage", cfg.Storage, "storage backend: local (embedded engine in --data-dir), clickhouse (--clickhouse-dsn) or memory (not durable)")
	fs.StringVar(&cfg.ClickHouse.DSN, "clickhouse-dsn", cfg.ClickHouse.DSN, "ClickHouse native-protocol DSN for --storage=clickhouse, e.g. clickhouse://user:pass@ch1:9000,ch2:9000 (hosts tried in turn)")
	fs.StringVar(&cfg.ClickHouse.Database, "clickhouse-database", cfg.ClickHouse.Database, "ClickHouse database for Clew's tables (created and migrated on start)")
	fs.StringVar(&cfg.ClickHouse.Cluster, "clickhouse-cluster", cfg.ClickHouse.Cluster, "ClickHouse cluster name: DDL ON CLUSTER, ReplicatedMergeTree tables, Distributed tables sharded by trace ID")
	fs.StringVar(&cfg.ClickHouse.ReplicaPath, "clickhouse-replica-path", cfg.ClickHouse.ReplicaPath, "ZooKeeper path prefix of replicated tables with --clickhouse-cluster (default /clickhouse/tables/{shard})")
	fs.IntVar(&cfg.ClickHouse.BatchSize, "clickhouse-batch-size", cfg.ClickHouse.BatchSize, "spans per ClickHouse insert (a batch goes at this size or after --clickhouse-flush-interval)")
	fs.DurationVar(&cfg.ClickHouse.FlushInterval, "clickhouse-flush-interval", cfg.ClickHouse.FlushInterval, "longest wait of a smaller batch; writes are acknowledged after their insert")
	fs.DurationVar(&cfg.ClickHouse.EdgeRollupInterval, "clickhouse-edge-rollup-interval", cfg.ClickHouse.EdgeRollupInterval, "how often this node rolls up service-graph edges per minute (0: 30s; negative: never, other nodes do)")
	fs.DurationVar(&cfg.ClickHouse.EdgeRollupSettle, "clickhouse-edge-rollup-settle", cfg.ClickHouse.EdgeRollupSettle, "how long a minute must go without writes before its edges are rolled up (0: 2m)")
	fs.IntVar(&cfg.ClickHouse.InsertQuorum, "clickhouse-insert-quorum", cfg.ClickHouse.InsertQuorum, "acknowledge writes only once this many replicas have them (0 or 1: one)")
	fs.StringVar(&cfg.WALFsync, "wal-fsync", cfg.WALFsync, "always: acknowledge spans only after fsync (group commit); interval: fsync every --wal-fsync-interval")
	fs.DurationVar(&cfg.WALFsyncInterval, "wal-fsync-interval", cfg.WALFsyncInterval, "fsync period with --wal-fsync=interval")
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long spans are kept (0 keeps them forever)")
	fs.IntVar(&cfg.HeadMaxSpans, "head-max-spans", cfg.HeadMaxSpans, "cut the in-memory head into a block at this many spans")
	fs.DurationVar(&cfg.HeadMaxAge, "head-max-age", cfg.HeadMaxAge, "cut the in-memory head into a block when its oldest span is this old")
	fs.Int64Var(&cfg.HeadMaxBytes, "head-max-bytes", cfg.HeadMaxBytes, "memory bound of the head; past it writes get 429/RESOURCE_EXHAUSTED until a cut finishes")
	fs.Int64Var(&cfg.MaxDiskBytes, "max-disk-bytes", cfg.MaxDiskBytes, "delete the oldest blocks when storage exceeds this many bytes (0: no cap)")
	fs.IntVar(&cfg.GRPCMaxRecvMsgBytes, "otlp-grpc-max-recv-bytes", cfg.GRPCMaxRecvMsgBytes, "largest OTLP/gRPC message accepted")
	fs.Int64Var(&cfg.HTTPMaxBodyBytes, "http-max-body-bytes", cfg.HTTPMaxBodyBytes, "largest OTLP/HTTP or Zipkin request body accepted (after decompression)")
	fs.Int64Var(&cfg.MaxInFlightBytes, "max-inflight-bytes", cfg.MaxInFlightBytes, "bytes of requests being processed at once; past it receivers answer 429/RESOURCE_EXHAUSTED")
	fs.StringVar(&cfg.OwnersFile, "owners", cfg.OwnersFile, "YAML ownership file (service name or glob → team, contact, runbook) for /api/clew's page answers")
	fs.Int64Var(&cfg.MemoryLimit, "memory-limit", cfg.MemoryLimit, "soft limit of the Go heap in bytes; the garbage collector works harder near it (0: none; GOMEMLIMIT overrides)")
	origins := fs.String("cors-allowed-origins", "", `comma-separated origins allowed to send OTLP/HTTP from browsers ("*" for any)`)
	withDemo := fs.Bool("demo", false, "also run the demo shop, sending its spans to this server (see clew demo -h)")
	var demo demoFlags
	demo.register(fs, "demo-")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, 0, nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := applyDefaults(fs, "config"); err != nil {
		return cfg, 0, nil, err
	}
	if *origins != "" {
		for _, o := range strings.Split(*origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, o)
			}
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, 0, nil, fmt.Errorf("log-level: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, 0, nil, err
	}
	if !*withDemo {
		return cfg, level, nil, nil
	}
	opts, err := demo.options()
	if err != nil {
		return cfg, 0, nil, fmt.Errorf("demo: %w", err)
	}
	return cfg, level, &opts, nil
}
