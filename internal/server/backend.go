package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/clickhouse"
	"github.com/clew-tracing/clew/internal/storage/local"
	"github.com/clew-tracing/clew/internal/storage/local/wal"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

// openBackend opens the storage backend the configuration names.
func openBackend(cfg Config, log *slog.Logger, reg prometheus.Registerer) (storage.Backend, error) {
	switch cfg.Storage {
	case "memory":
		log.Warn("storage=memory keeps spans in memory only: nothing survives a restart")
		return memstore.New(), nil
	case "local":
		// NB: the flag says 0 keeps forever; the engine says negative.
		retention := cfg.Retention
		if retention == 0 {
			retention = -1
		}
		opts := local.Options{
			Retention:        retention,
			MaxDiskBytes:     cfg.MaxDiskBytes,
			HeadMaxSpans:     cfg.HeadMaxSpans,
			HeadMaxAge:       cfg.HeadMaxAge,
			HeadMaxBytes:     cfg.HeadMaxBytes,
			WALFsync:         wal.FsyncAlways,
			WALFsyncInterval: cfg.WALFsyncInterval,
			Logger:           log,
			Registerer:       reg,
		}
		if cfg.WALFsync == "interval" {
			opts.WALFsync = wal.FsyncInterval
		}
		db, err := local.Open(cfg.DataDir, opts)
		if err != nil {
			return nil, fmt.Errorf("open storage in %s: %w", cfg.DataDir, err)
		}
		return db, nil
	case "clickhouse":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		db, err := clickhouse.Open(ctx, clickhouse.Options{
			DSN:                cfg.ClickHouse.DSN,
			Database:           cfg.ClickHouse.Database,
			Cluster:            cfg.ClickHouse.Cluster,
			ReplicaPath:        cfg.ClickHouse.ReplicaPath,
			BatchSize:          cfg.ClickHouse.BatchSize,
			FlushInterval:      cfg.ClickHouse.FlushInterval,
			InsertQuorum:       cfg.ClickHouse.InsertQuorum,
			EdgeRollupInterval: cfg.ClickHouse.EdgeRollupInterval,
			EdgeRollupSettle:   cfg.ClickHouse.EdgeRollupSettle,
			Retention:          cfg.Retention,
			Logger:             log,
			Registerer:         reg,
		})
		if err != nil {
			return nil, fmt.Errorf("open clickhouse storage: %w", err)
		}
		return db, nil
	}
	return nil, fmt.Errorf("unknown storage %q", cfg.Storage)
}
