package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/clew-tracing/clew/internal/storage"
)

// DB is a storage.Backend on a ClickHouse server or cluster. Many DBs (in
// many Clew processes) may share one database: a DB keeps no state of its
// own beyond the batch it is about to insert. It is safe for concurrent use.
type DB struct {
	opts    Options
	conn    driver.Conn
	schema  schema
	dialect Dialect
	log     *slog.Logger
	metrics *metrics

	w *writer

	closed    atomic.Bool
	closeOnce sync.Once
	stop      chan struct{}
	bg        sync.WaitGroup
}

var (
	_ storage.Backend         = (*DB)(nil)
	_ storage.StatsReader     = (*DB)(nil)
	_ storage.FullTraceFinder = (*DB)(nil)
)

// Open connects to ClickHouse, creates or migrates the schema, and starts
// the batch writer, the retention loop and the edge rollup loop.
func Open(ctx context.Context, opts Options) (*DB, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	conn, dbName, err := connect(ctx, &opts)
	if err != nil {
		return nil, err
	}
	version, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse server version: %w", err)
	}
	dialect, err := DialectFor(fmt.Sprintf("%d.%d.%d", version.Version.Major, version.Version.Minor, version.Version.Patch))
	if err != nil {
		conn.Close()
		return nil, err
	}
	db := &DB{
		opts:    opts,
		conn:    conn,
		dialect: dialect,
		log:     opts.Logger,
		stop:    make(chan struct{}),
		schema: schema{
			db: dbName, cluster: opts.Cluster, replicaPath: opts.ReplicaPath,
			dialect: dialect, retention: opts.Retention,
		},
	}
	db.metrics = newMetrics(opts.Registerer)
	if err := db.migrate(ctx); err != nil {
		conn.Close()
		db.metrics.unregister()
		return nil, err
	}
	db.log.Info("clickhouse storage ready", "server", dialect.Version, "modern", dialect.Modern,
		"database", dbName, "cluster", opts.Cluster)
	db.w = newWriter(db)
	if opts.Retention > 0 && !opts.noLoops {
		db.bg.Go(db.retentionLoop)
	}
	if opts.EdgeRollupInterval > 0 && !opts.noLoops {
		db.bg.Go(db.rollupLoop)
	}
	return db, nil
}

// connect opens the connection pool and checks that the server answers.
// It returns the database Clew's tables go in.
func connect(ctx context.Context, opts *Options) (driver.Conn, string, error) {
	co, err := ch.ParseDSN(opts.DSN)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse DSN: %w", err)
	}
	dbName := opts.Database
	if dbName == "" {
		dbName = DefaultDatabase
		if co.Auth.Database != "" && co.Auth.Database != "default" {
			dbName = co.Auth.Database
		}
	}
	if !identRE.MatchString(dbName) {
		return nil, "", fmt.Errorf("database name %q: want letters, digits and _", dbName)
	}
	// The tables are always named with their database; the connection's
	// own database must exist before Clew creates its own.
	co.Auth.Database = "default"
	if co.Settings == nil {
		co.Settings = ch.Settings{}
	}
	if co.MaxOpenConns == 0 || co.MaxOpenConns < opts.MaxConcurrentInserts+4 {
		co.MaxOpenConns = opts.MaxConcurrentInserts + 8
	}
	// NB: clickhouse-go warns on every connection to a server older than
	// it supports (18.16 works; see docs/deployment.md). Only its errors
	// are worth our log.
	co.Logger = slog.New(levelFloor{opts.Logger.Handler(), slog.LevelError})
	conn, err := ch.Open(co)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse open: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("clickhouse ping %v: %w", co.Addr, err)
	}
	return conn, dbName, nil
}

// levelFloor drops records below a level.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}

// Dialect returns what the server was found to support.
func (db *DB) Dialect() Dialect { return db.dialect }

// Database returns the name of the database holding Clew's tables.
func (db *DB) Database() string { return db.schema.db }

// settings returns the query settings every statement runs with.
func (db *DB) settings(extra ch.Settings) ch.Settings {
	s := ch.Settings{}
	if db.dialect.LowCardinalitySetting {
		s["allow_experimental_low_cardinality_type"] = 1
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// sel returns a SELECT with the settings clause the layout needs: with a
// cluster, every table is sharded by trace ID, so IN and JOIN subqueries
// on the Distributed tables can run shard by shard. NB: string settings
// cannot travel in the native protocol's settings to 18.16 (it takes
// numbers only there), so this one goes in the query text.
func (db *DB) sel(query string) string {
	if db.opts.Cluster != "" {
		return query + " SETTINGS distributed_product_mode = 'local'"
	}
	return query
}

// queryCtx returns the context for a read query.
func (db *DB) queryCtx(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(db.settings(ch.Settings{
		"max_execution_time": int(db.opts.QueryTimeout / time.Second),
	})))
}

// exec runs a statement with the common settings.
func (db *DB) exec(ctx context.Context, query string, args ...any) error {
	return db.conn.Exec(ch.Context(ctx, ch.WithSettings(db.settings(nil))), query, args...)
}

// Close flushes pending writes, stops the background work and closes the
// connections. Later calls fail with storage.ErrClosed.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		db.closed.Store(true)
		close(db.stop)
		err = db.w.close()
		db.bg.Wait()
		err = errors.Join(err, db.conn.Close())
		db.metrics.unregister()
	})
	return err
}

// check returns storage.ErrClosed after Close.
func (db *DB) check() error {
	if db.closed.Load() {
		return storage.ErrClosed
	}
	return nil
}

// ServerDialect connects to the server a DSN names and returns its dialect.
func ServerDialect(ctx context.Context, dsn string) (Dialect, error) {
	o := Options{DSN: dsn}
	o.EnsureDefaults()
	conn, _, err := connect(ctx, &o)
	if err != nil {
		return Dialect{}, err
	}
	defer conn.Close()
	v, err := conn.ServerVersion()
	if err != nil {
		return Dialect{}, fmt.Errorf("clickhouse server version: %w", err)
	}
	return DialectFor(fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch))
}
