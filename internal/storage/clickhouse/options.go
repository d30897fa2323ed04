package clickhouse

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultDatabase             = "clew"
	DefaultBatchSize            = 10_000
	DefaultFlushInterval        = 500 * time.Millisecond
	DefaultMaxConcurrentInserts = 2
	DefaultMaxPendingSpans      = 200_000
	DefaultRetentionInterval    = time.Hour
	DefaultReplicaPath          = "/clickhouse/tables/{shard}"
	DefaultQueryTimeout         = time.Minute
	DefaultEdgeRollupInterval   = 30 * time.Second
	DefaultEdgeRollupSettle     = 2 * time.Minute
)

// Options configure a DB. The zero value of every field but DSN means its
// default.
type Options struct {
	// DSN is the native-protocol address of ClickHouse, e.g.
	// clickhouse://user:password@host1:9000,host2:9000/db?dial_timeout=5s.
	// Several hosts are tried in turn, so a replica may be down.
	DSN string
	// Database holds Clew's tables; it is created when missing. Default
	// "clew", or the DSN's database when the DSN names one other than
	// "default".
	Database string
	// Cluster, when set, is a cluster from the servers' remote_servers:
	// DDL runs ON CLUSTER, tables are Replicated*MergeTree and Distributed
	// tables (sharded by trace ID) sit on top.
	Cluster string
	// ReplicaPath is the ZooKeeper path prefix of replicated tables; the
	// database and table names are appended. Default
	// "/clickhouse/tables/{shard}": the server's {shard} macro tells shards
	// apart, its {replica} macro names the replica.
	ReplicaPath string

	// BatchSize is the number of spans that makes an insert go at once;
	// FlushInterval is how long a smaller batch waits for more spans. A
	// Write returns once the insert holding its spans was accepted, so
	// FlushInterval is also the added latency of a lone write. 0 sends
	// at once whenever an insert slot is free (tests).
	BatchSize     int
	FlushInterval time.Duration
	// MaxConcurrentInserts bounds the inserts in flight.
	MaxConcurrentInserts int
	// MaxPendingSpans bounds the spans waiting for an insert; past it
	// Write fails with storage.ErrOverloaded at once.
	MaxPendingSpans int
	// InsertQuorum, when above 1, makes an insert wait until that many
	// replicas have it (insert_quorum), so that losing a replica loses no
	// acknowledged span.
	InsertQuorum int

	// Retention drops day partitions whose every span is older than this;
	// 0 keeps everything. Checked at start and every RetentionInterval.
	Retention         time.Duration
	RetentionInterval time.Duration
	// QueryTimeout bounds each read query (max_execution_time).
	QueryTimeout time.Duration

	// EdgeRollupInterval is how often the node rolls up service edges
	// into per-minute cells that EdgeStats reads (see edges.go); every
	// node does, and nodes doing it at once only repeat work. Negative
	// disables the loop: EdgeStats stays complete, computing live what
	// no node rolled up.
	EdgeRollupInterval time.Duration
	// EdgeRollupSettle is how long a minute must go without writes before
	// its edges are rolled up; until then EdgeStats computes it live. It
	// must exceed the time an insert takes to become visible on every
	// replica plus the clock difference between ClickHouse servers.
	EdgeRollupSettle time.Duration

	// noLoops keeps the background loops (retention, edge rollup) from
	// running, for tests that call them by hand.
	noLoops bool

	// Logger and Registerer may be nil.
	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// now is the clock (tests).
	now func() time.Time
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EnsureDefaults fills in the defaults of unset fields.
func (o *Options) EnsureDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval < 0 {
		o.FlushInterval = 0
	}
	if o.MaxConcurrentInserts <= 0 {
		o.MaxConcurrentInserts = DefaultMaxConcurrentInserts
	}
	if o.MaxPendingSpans <= 0 {
		o.MaxPendingSpans = max(DefaultMaxPendingSpans, 4*o.BatchSize)
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.ReplicaPath == "" {
		o.ReplicaPath = DefaultReplicaPath
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.EdgeRollupInterval == 0 {
		o.EdgeRollupInterval = DefaultEdgeRollupInterval
	}
	if o.EdgeRollupSettle == 0 {
		o.EdgeRollupSettle = DefaultEdgeRollupSettle
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.DSN == "" {
		errs = append(errs, errors.New("clickhouse DSN is empty"))
	}
	if o.Database != "" && !identRE.MatchString(o.Database) {
		errs = append(errs, fmt.Errorf("database name %q: want letters, digits and _", o.Database))
	}
	if o.Cluster != "" && !identRE.MatchString(o.Cluster) {
		errs = append(errs, fmt.Errorf("cluster name %q: want letters, digits and _", o.Cluster))
	}
	if o.Retention < 0 {
		errs = append(errs, errors.New("retention must not be negative (0 keeps everything)"))
	}
	if o.EdgeRollupSettle < 0 || (o.EdgeRollupSettle > 0 && o.EdgeRollupSettle < time.Second) {
		// NB: the marks are the server's now(), whole seconds.
		errs = append(errs, errors.New("edge rollup settle window must be at least a second"))
	}
	if o.InsertQuorum < 0 {
		errs = append(errs, errors.New("insert quorum must not be negative"))
	}
	for _, c := range []byte{'\'', '\\', '`'} {
		for i := 0; i < len(o.ReplicaPath); i++ {
			if o.ReplicaPath[i] == c {
				errs = append(errs, fmt.Errorf("replica path %q must not hold %q", o.ReplicaPath, c))
			}
		}
	}
	return errors.Join(errs...)
}
