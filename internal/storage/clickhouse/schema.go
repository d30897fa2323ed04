package clickhouse

import (
	"fmt"
	"strings"
	"time"
)

// Dialect is what the ClickHouse server understands, decided from its
// version: the compat dialect is what 18.16 (Debian's package) accepts; the
// modern one adds column codecs, data-skipping indexes, TTL, Map and
// DateTime64 columns.
type Dialect struct {
	// Version is the server version, e.g. "18.16.1".
	Version string
	// Modern enables codecs, skip indexes, TTL, Map and DateTime64.
	Modern bool
	// LowCardinalitySetting says LowCardinality columns need
	// allow_experimental_low_cardinality_type=1 (before 19.0).
	LowCardinalitySetting bool
}

// ModernSince is the first version given the modern dialect: the 23.8 LTS,
// which has everything it uses generally available (Map and mapFromArrays,
// codecs, skip indexes, TTL, DateTime64).
var ModernSince = [2]int{23, 8}

// DialectFor returns the dialect of a server version "major.minor[.patch]".
func DialectFor(version string) (Dialect, error) {
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return Dialect{}, fmt.Errorf("server version %q: %w", version, err)
	}
	d := Dialect{Version: version}
	d.Modern = major > ModernSince[0] || (major == ModernSince[0] && minor >= ModernSince[1])
	d.LowCardinalitySetting = major < 19
	return d, nil
}

// schema generates Clew's DDL for one database, dialect and (optional)
// cluster. Its statements are what `clew clickhouse schema` prints.
type schema struct {
	db          string
	cluster     string
	replicaPath string
	dialect     Dialect
	// retention, when positive, becomes a TTL in the modern dialect.
	retention time.Duration
}

// Table names. With a cluster, the data lives in <name>_local tables and
// <name> is a Distributed table over them; without, <name> is the table.
const (
	tableInput      = "spans_input"     // Null engine; every insert lands here and fans out through materialized views
	tableSpans      = "spans"           // flat spans for searching, ordered by service, name, start
	tableTraceSpans = "trace_spans"     // whole encoded spans, ordered by trace ID
	tableTraceIndex = "trace_index"     // trace ID → first start, last end
	tableOpStats    = "operation_stats" // per minute, service, operation and kind: calls, errors, latency (RED)
	tableMigrations = "schema_migrations"
)

// dataTables are the tables with day partitions, dropped by retention.
var dataTables = []string{tableSpans, tableTraceSpans, tableTraceIndex, tableOpStats}

// nsPerDay and the partition expression put every row in the UTC day of its
// start: toDate of a day number, which every ClickHouse version reads the
// same way and which needs no time zone.
const (
	nsPerDay     = 86_400_000_000_000
	nsPerMinute  = 60_000_000_000
	partitionDay = "toDate(intDiv(start_ns, 86400000000000))"
)

// migration is one versioned step of the schema. Every statement is
// idempotent, so that two Clew nodes starting at once may both apply it.
type migration struct {
	version     int
	description string
	stmts       []string
}

func (s *schema) q(name string) string { return "`" + s.db + "`.`" + name + "`" }

// local names the table holding the data on each server.
func (s *schema) local(name string) string {
	if s.cluster != "" {
		return s.q(name + "_local")
	}
	return s.q(name)
}

func (s *schema) onCluster() string {
	if s.cluster != "" {
		return " ON CLUSTER `" + s.cluster + "`"
	}
	return ""
}

// engine returns a MergeTree-family engine clause, replicated with a cluster.
func (s *schema) engine(family, table string) string {
	if s.cluster == "" {
		return family + "()"
	}
	return fmt.Sprintf("Replicated%s('%s/%s/%s', '{replica}')", family, s.replicaPath, s.db, table)
}

func (s *schema) lc() string {
	return "LowCardinality(String)"
}

// codec returns a column codec clause in the modern dialect.
func (s *schema) codec(c string) string {
	if !s.dialect.Modern {
		return ""
	}
	return " CODEC(" + c + ")"
}

// ttl returns the table TTL clause in the modern dialect with a retention.
func (s *schema) ttl(dayExpr string) string {
	if !s.dialect.Modern || s.retention <= 0 {
		return ""
	}
	days := int((s.retention + 24*time.Hour - 1) / (24 * time.Hour))
	return fmt.Sprintf("\nTTL %s + INTERVAL %d DAY", dayExpr, days)
}

// distributed creates the Distributed table <name> over <name>_local,
// sharded by trace ID so that a trace lives on one shard. (Only inserts
// use the key; operation_stats is written by views on each shard.)
func (s *schema) distributed(name string) string {
	key := "cityHash64(trace_id)"
	if name == tableOpStats {
		key = "rand()"
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s AS %s\nENGINE = Distributed(`%s`, `%s`, `%s`, %s)",
		s.q(name), s.onCluster(), s.local(name), s.cluster, s.db, name+"_local", key)
}

// inputColumns are the columns of every insert, in order.
var inputColumns = []string{
	"trace_id", "span_id", "parent_span_id", "service", "name", "kind", "status_code", "status_message",
	"scope_name", "scope_version", "start_ns", "end_ns", "duration_ns",
	"attr_scopes", "attr_keys", "attr_types", "attr_strs", "attr_nums", "write_ns", "span",
}

func (s *schema) migrations() []migration {
	return []migration{
		{1, "spans, trace spans, trace index", s.v1()},
		{2, "per-operation RED statistics", s.v2()},
	}
}

func (s *schema) v1() []string {
	lc := s.lc()
	var out []string
	out = append(out, fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`%s", s.db, s.onCluster()))

	// The input table keeps nothing: materialized views copy each insert
	// into the tables below, so one insert from Clew feeds them all.
	out = append(out, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    trace_id FixedString(16),
    span_id FixedString(8),
    parent_span_id FixedString(8),
    service %[3]s,
    name %[3]s,
    kind UInt8,
    status_code UInt8,
    status_message String,
    scope_name %[3]s,
    scope_version %[3]s,
    start_ns UInt64,
    end_ns UInt64,
    duration_ns UInt64,
    attr_scopes Array(UInt8),
    attr_keys Array(%[3]s),
    attr_types Array(UInt8),
    attr_strs Array(String),
    attr_nums Array(Float64),
    write_ns UInt64,
    span String
) ENGINE = Null`, s.local(tableInput), s.onCluster(), lc))

	// Spans for searching: one row per span, every attribute (span,
	// resource, scope, events, links) in parallel arrays.
	var modernCols, indexes string
	if s.dialect.Modern {
		modernCols = `,
    start_time DateTime64(9) MATERIALIZED fromUnixTimestamp64Nano(toInt64(start_ns)),
    span_attributes Map(LowCardinality(String), String) MATERIALIZED mapFromArrays(arrayFilter((k, sc) -> sc = 1, attr_keys, attr_scopes), arrayFilter((v, sc) -> sc = 1, attr_strs, attr_scopes)),
    resource_attributes Map(LowCardinality(String), String) MATERIALIZED mapFromArrays(arrayFilter((k, sc) -> sc = 2, attr_keys, attr_scopes), arrayFilter((v, sc) -> sc = 2, attr_strs, attr_scopes))`
		indexes = `,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_attr_keys attr_keys TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_strs attr_strs TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration duration_ns TYPE minmax GRANULARITY 1,
    INDEX idx_status status_code TYPE set(3) GRANULARITY 1`
	}
	out = append(out, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    trace_id FixedString(16)%[4]s,
    span_id FixedString(8)%[4]s,
    parent_span_id FixedString(8)%[4]s,
    service %[3]s,
    name %[3]s,
    kind UInt8,
    status_code UInt8,
    status_message String%[5]s,
    scope_name %[3]s,
    scope_version %[3]s,
    start_ns UInt64%[6]s,
    duration_ns UInt64%[7]s,
    attr_scopes Array(UInt8),
    attr_keys Array(%[3]s),
    attr_types Array(UInt8),
    attr_strs Array(String)%[5]s,
    attr_nums Array(Float64)%[5]s%[8]s%[9]s
) ENGINE = %[10]s
PARTITION BY %[11]s
ORDER BY (service, name, start_ns)%[12]s`,
		s.local(tableSpans), s.onCluster(), lc,
		s.codec("ZSTD(1)"), s.codec("ZSTD(1)"), s.codec("Delta, ZSTD(1)"), s.codec("T64, ZSTD(1)"),
		modernCols, indexes,
		s.engine("MergeTree", tableSpans+s.localSuffix()), partitionDay, s.ttl(partitionDay)))

	// Whole spans by trace ID: trace-by-ID reads a few granules.
	out = append(out, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    trace_id FixedString(16),
    start_ns UInt64%[4]s,
    end_ns UInt64%[4]s,
    span_id FixedString(8),
    parent_span_id FixedString(8),
    service %[3]s,
    name %[3]s,
    kind UInt8,
    status_code UInt8,
    write_ns UInt64%[4]s,
    span String%[5]s
) ENGINE = %[6]s
PARTITION BY %[7]s
ORDER BY (trace_id, start_ns)%[8]s`,
		s.local(tableTraceSpans), s.onCluster(), lc, s.codec("Delta, ZSTD(1)"), s.codec("ZSTD(3)"),
		s.engine("MergeTree", tableTraceSpans+s.localSuffix()), partitionDay, s.ttl(partitionDay)))

	// Trace ID → first start and last end, merged in the background.
	out = append(out, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    day Date,
    trace_id FixedString(16),
    min_start AggregateFunction(min, UInt64),
    max_end AggregateFunction(max, UInt64)
) ENGINE = %s
PARTITION BY day
ORDER BY trace_id%s`,
		s.local(tableTraceIndex), s.onCluster(), s.engine("AggregatingMergeTree", tableTraceIndex+s.localSuffix()), s.ttl("day")))

	out = append(out, fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT trace_id, span_id, parent_span_id, service, name, kind, status_code, status_message,
    scope_name, scope_version, start_ns, duration_ns, attr_scopes, attr_keys, attr_types, attr_strs, attr_nums
FROM %s`, s.local("spans_mv"), s.onCluster(), s.local(tableSpans), s.local(tableInput)))
	out = append(out, fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT trace_id, start_ns, end_ns, span_id, parent_span_id, service, name, kind, status_code, write_ns, span
FROM %s`, s.local("trace_spans_mv"), s.onCluster(), s.local(tableTraceSpans), s.local(tableInput)))
	out = append(out, fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT toDate(intDiv(start_ns, 86400000000000)) AS day, trace_id, minState(start_ns) AS min_start, maxState(end_ns) AS max_end
FROM %s
GROUP BY day, trace_id`, s.local("trace_index_mv"), s.onCluster(), s.local(tableTraceIndex), s.local(tableInput)))

	if s.cluster != "" {
		for _, t := range []string{tableInput, tableSpans, tableTraceSpans, tableTraceIndex} {
			out = append(out, s.distributed(t))
		}
	}
	return out
}

func (s *schema) v2() []string {
	lc := s.lc()
	out := []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    minute_ns UInt64,
    service %[3]s,
    name %[3]s,
    kind UInt8,
    calls AggregateFunction(count),
    errors AggregateFunction(sum, UInt64),
    duration_sum AggregateFunction(sum, UInt64),
    duration_quantiles AggregateFunction(quantiles(0.5, 0.9, 0.99), UInt64)
) ENGINE = %[4]s
PARTITION BY toDate(intDiv(minute_ns, 86400000000000))
ORDER BY (service, name, kind, minute_ns)%[5]s`,
		s.local(tableOpStats), s.onCluster(), lc,
		s.engine("AggregatingMergeTree", tableOpStats+s.localSuffix()), s.ttl("toDate(intDiv(minute_ns, 86400000000000))")),
		fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT intDiv(start_ns, 60000000000) * 60000000000 AS minute_ns, service, name, kind,
    countState() AS calls, sumState(toUInt64(status_code = 2)) AS errors,
    sumState(duration_ns) AS duration_sum, quantilesState(0.5, 0.9, 0.99)(duration_ns) AS duration_quantiles
FROM %s
GROUP BY minute_ns, service, name, kind`, s.local("operation_stats_mv"), s.onCluster(), s.local(tableOpStats), s.local(tableInput)),
	}
	if s.cluster != "" {
		out = append(out, s.distributed(tableOpStats))
	}
	return out
}

func (s *schema) localSuffix() string {
	if s.cluster != "" {
		return "_local"
	}
	return ""
}

// migrationsTable creates the table that records applied migrations. With
// a cluster every server has its own (created ON CLUSTER): a node that
// reads an older version there applies the idempotent steps again.
func (s *schema) migrationsTable() []string {
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`%s", s.db, s.onCluster()),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    version UInt32,
    description String,
    applied_ns UInt64
) ENGINE = MergeTree() ORDER BY version`, s.q(tableMigrations), s.onCluster()),
	}
}

// Script returns every statement, separated by ";\n\n", for DBAs who
// create the schema themselves (`clew clickhouse schema`).
func (s *schema) Script() string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- Clew ClickHouse schema, dialect for server %s (modern=%v)", s.dialect.Version, s.dialect.Modern)
	if s.cluster != "" {
		fmt.Fprintf(&b, ", cluster %s", s.cluster)
	}
	b.WriteString("\n")
	if s.dialect.LowCardinalitySetting {
		b.WriteString("-- ClickHouse before 19.0 needs LowCardinality enabled:\nSET allow_experimental_low_cardinality_type = 1;\n")
	}
	b.WriteString("\n")
	for _, st := range s.migrationsTable() {
		b.WriteString(st)
		b.WriteString(";\n\n")
	}
	for _, m := range s.migrations() {
		fmt.Fprintf(&b, "-- migration %d: %s\n", m.version, m.description)
		for _, st := range m.stmts {
			b.WriteString(st)
			b.WriteString(";\n\n")
		}
		fmt.Fprintf(&b, "INSERT INTO %s (version, description, applied_ns) VALUES (%d, '%s', 0);\n\n", s.q(tableMigrations), m.version, m.description)
	}
	return b.String()
}

// SchemaOptions select the DDL Schema prints.
type SchemaOptions struct {
	Database    string // default DefaultDatabase
	Cluster     string
	ReplicaPath string // default DefaultReplicaPath
	Dialect     Dialect
	// Retention becomes a TTL in the modern dialect.
	Retention time.Duration
}

// Schema returns every statement Open would run on an empty server, for
// DBAs who create the schema themselves (`clew clickhouse schema`). Clew
// started on a database created this way finds every migration recorded
// and changes nothing.
func Schema(o SchemaOptions) (string, error) {
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.ReplicaPath == "" {
		o.ReplicaPath = DefaultReplicaPath
	}
	opts := Options{DSN: "-", Database: o.Database, Cluster: o.Cluster, ReplicaPath: o.ReplicaPath, Retention: o.Retention}
	if err := opts.Validate(); err != nil {
		return "", err
	}
	s := schema{db: o.Database, cluster: o.Cluster, replicaPath: o.ReplicaPath, dialect: o.Dialect, retention: o.Retention}
	return s.Script(), nil
}
