package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/sketch"
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
	tableInput      = "spans_input" // Null engine; every insert lands here and fans out through materialized views
	tableSpans      = "spans"       // flat spans for searching, ordered by service, name, start
	tableTraceSpans = "trace_spans" // whole encoded spans, ordered by trace ID
	tableTraceIndex = "trace_index" // trace ID → first start, last end
	// tableOpMinutes holds, per minute, service, operation and kind, the
	// calls, errors and the durations' sum, min, max and log buckets (RED).
	tableOpMinutes = "operation_minutes"
	// tableEdgeMinutes holds, per minute, parent and child service, the
	// rolled-up statistics of the service edge's child spans.
	tableEdgeMinutes = "edge_minutes"
	// tableRollupMinutes holds, per minute, when spans touching it were
	// last written and when its edges were last rolled up.
	tableRollupMinutes = "rollup_minutes"
	// tableAttrNames holds the attribute keys seen per minute and scope.
	tableAttrNames = "attribute_names"
	// tableClusterParts is a Distributed table over every shard's
	// system.parts (cluster only), so that retention sees every shard.
	tableClusterParts = "cluster_parts"
	tableMigrations   = "schema_migrations"
	// tableOpStats held RED statistics with ClickHouse's quantiles; it is
	// dropped by migration 3 in favour of tableOpMinutes.
	tableOpStats = "operation_stats"
)

// dataTables are the tables with day partitions, dropped by retention.
var dataTables = []string{tableSpans, tableTraceSpans, tableTraceIndex, tableOpMinutes, tableRollupMinutes, tableEdgeMinutes, tableAttrNames}

// nsPerDay and the partition expression put every row in the UTC day of its
// start: toDate of a day number, which every ClickHouse version reads the
// same way and which needs no time zone.
const (
	nsPerDay      = 86_400_000_000_000
	nsPerMinute   = 60_000_000_000
	partitionDay  = "toDate(intDiv(start_ns, 86400000000000))"
	partitionMin  = "toDate(intDiv(minute_ns, 86400000000000))"
	minuteOfStart = "intDiv(start_ns, 60000000000) * 60000000000"
)

// binSQL returns the SQL of the latency sketch's bucket of a duration
// column (nanoseconds, >= 1): ceil(ln(d) / sketch.LogGamma()), the formula
// of sketch.BinIndex, so that sketch.FromBins rebuilds from ClickHouse's
// counts the sketch Go would have built. greatest() keeps log(0) = -inf out
// of toInt32, which modern servers refuse; callers count zero durations
// apart, as the sketch does.
func binSQL(col string) string {
	return "toInt32(ceil(log(greatest(" + col + ", 1)) / " + strconv.FormatFloat(sketch.LogGamma(), 'g', -1, 64) + "))"
}

// binsSQL returns the two array arguments of a sumMap counting one value of
// the duration column in its bucket, or nothing for a zero duration.
func binsSQL(col string) string {
	return "if(" + col + " > 0, [" + binSQL(col) + "], emptyArrayInt32()), if(" + col + " > 0, [toUInt64(1)], emptyArrayUInt64())"
}

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

// engine returns a MergeTree-family engine clause, replicated with a
// cluster; args are the engine's own parameters (a version column).
func (s *schema) engine(family, table string, args ...string) string {
	if s.cluster == "" {
		return family + "(" + strings.Join(args, ", ") + ")"
	}
	return fmt.Sprintf("Replicated%s('%s/%s/%s', '{replica}'%s)", family, s.replicaPath, s.db, table,
		strings.Join(append([]string{""}, args...), ", "))
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
// sharded by trace ID so that a trace lives on one shard. Only inserts use
// the key: the aggregates that views fill on each shard get rand(); the
// edge rollups go to the shard of their (minute, parent, child), so that
// every version of a cell lands where ReplacingMergeTree can merge them.
func (s *schema) distributed(name string) string {
	key := "cityHash64(trace_id)"
	switch name {
	case tableOpMinutes, tableRollupMinutes, tableAttrNames:
		key = "rand()"
	case tableEdgeMinutes:
		key = "cityHash64(minute_ns, parent, child)"
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
		// NB: migration 2 created operation_stats (RED with ClickHouse's
		// quantiles), which migration 3 replaces; it now creates
		// nothing, so that a new database never holds the old table.
		{2, "per-operation RED statistics (superseded by 3)", nil},
		{3, "per-operation statistics with latency sketch buckets", s.v3()},
		{4, "service-edge rollups", s.v4()},
		{5, "partitions across the cluster", s.v5()},
		{6, "attribute names per minute", s.v6()},
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

// v3 replaces operation_stats (quantilesState, which cannot be merged
// into Clew's sketches) with operation_minutes, whose latency columns are
// the sketch's own log buckets: OperationStats rebuilds exact-count
// sketches from them. Data written before is not copied over.
//
// NB: a SummingMergeTree, not an AggregatingMergeTree of sumMapState: on
// 18.16 reading sumMap states costs about 20 µs a row, five times the rest
// of the query; plain arrays read fast, and the background merges still
// sum them (a Nested column whose name ends in "Map" is summed by key, and
// the min and max states merge as in an AggregatingMergeTree).
func (s *schema) v3() []string {
	var out []string
	// The view goes first, so that no insert writes into a dropped table.
	out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s%s", s.local("operation_stats_mv"), s.onCluster()))
	if s.cluster != "" {
		out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s%s", s.q(tableOpStats), s.onCluster()))
	}
	out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s%s", s.local(tableOpStats), s.onCluster()))
	out = append(out, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    minute_ns UInt64,
    service %[3]s,
    name %[3]s,
    kind UInt8,
    calls UInt64,
    errors UInt64,
    duration_sum UInt64,
    duration_zeros UInt64,
    duration_min AggregateFunction(min, UInt64),
    duration_max AggregateFunction(max, UInt64),
    durationMap Nested(bin Int32, n UInt64)
) ENGINE = %[4]s
PARTITION BY %[5]s
ORDER BY (service, name, kind, minute_ns)%[6]s`,
		s.local(tableOpMinutes), s.onCluster(), s.lc(),
		s.engine("SummingMergeTree", tableOpMinutes+s.localSuffix()), partitionMin, s.ttl(partitionMin)))
	// NB: 18.16 cannot run a view whose SELECT reads a subquery ("Unknown
	// identifier" on insert), so the buckets are counted with sumMap here.
	out = append(out, fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT %s AS minute_ns, service, name, kind,
    count() AS calls, countIf(status_code = 2) AS errors, sum(duration_ns) AS duration_sum, countIf(duration_ns = 0) AS duration_zeros,
    minState(duration_ns) AS duration_min, maxState(duration_ns) AS duration_max,
    tupleElement(sumMap(%s) AS h, 1) AS `+"`durationMap.bin`"+`, tupleElement(h, 2) AS `+"`durationMap.n`"+`
FROM %s
GROUP BY minute_ns, service, name, kind`,
		s.local("operation_minutes_mv"), s.onCluster(), s.local(tableOpMinutes), minuteOfStart, binsSQL("duration_ns"), s.local(tableInput)))
	if s.cluster != "" {
		out = append(out, s.distributed(tableOpMinutes))
	}
	return out
}

// rollupMarkMinutes bounds the minutes one span marks as written in
// rollup_minutes: its start minute up to its end minute, at most this many.
const rollupMarkMinutes = 60

// v4 creates the service-edge rollups (see rollup.go): edge_minutes, the
// per-minute cells the rollup loop computes, and rollup_minutes, which a
// view marks with the time of every insert (the minutes each span
// covers, from its start to its end) and the loop with the time of each
// rollup, so that readers know which minutes are rolled up and current.
func (s *schema) v4() []string {
	lc := s.lc()
	out := []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    minute_ns UInt64,
    parent %[3]s,
    child %[3]s,
    calls UInt64,
    errors UInt64,
    duration_sum UInt64,
    duration_min UInt64,
    duration_max UInt64,
    duration_zeros UInt64,
    bins Array(Int32),
    bin_counts Array(UInt64),
    version UInt64
) ENGINE = %[4]s
PARTITION BY %[5]s
ORDER BY (minute_ns, parent, child)%[6]s`,
		s.local(tableEdgeMinutes), s.onCluster(), lc,
		s.engine("ReplacingMergeTree", tableEdgeMinutes+s.localSuffix(), "version"), partitionMin, s.ttl(partitionMin)),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    minute_ns UInt64,
    last_write AggregateFunction(max, UInt64),
    rolled AggregateFunction(max, UInt64)
) ENGINE = %s
PARTITION BY %s
ORDER BY minute_ns%s`,
			s.local(tableRollupMinutes), s.onCluster(),
			s.engine("AggregatingMergeTree", tableRollupMinutes+s.localSuffix()), partitionMin, s.ttl(partitionMin)),
		// NB: now() is the server's clock when the insert runs, which is
		// when the spans become visible; the rollup loop stamps its
		// versions with the same clock (rollup.go).
		fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT minute_ns, maxState(toUInt64(now()) * 1000000000) AS last_write, maxState(toUInt64(0)) AS rolled
FROM %s
ARRAY JOIN arrayMap(i -> %s + i * 60000000000,
    range(toUInt64(least(intDiv(greatest(end_ns, start_ns), 60000000000) - intDiv(start_ns, 60000000000) + 1, %d)))) AS minute_ns
GROUP BY minute_ns`,
			s.local("rollup_minutes_mv"), s.onCluster(), s.local(tableRollupMinutes), s.local(tableInput), minuteOfStart, rollupMarkMinutes),
	}
	if s.cluster != "" {
		out = append(out, s.distributed(tableEdgeMinutes), s.distributed(tableRollupMinutes))
	}
	return out
}

// v5 creates, with a cluster, a Distributed table over system.parts, so
// that retention lists the partitions of every shard, not only those of
// the server a node is connected to. Columns are named, not copied from
// system.parts, whose columns differ between versions.
func (s *schema) v5() []string {
	if s.cluster == "" {
		return nil
	}
	return []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    database String,
    table String,
    partition String,
    active UInt8
) ENGINE = Distributed(%s, system, parts)`, s.q(tableClusterParts), s.onCluster(), "`"+s.cluster+"`")}
}

// v6 keeps the attribute keys seen per minute and scope, so that
// AttributeNames reads a few rows per key and minute instead of every
// span's attribute arrays (it scans spans only for the partial minutes at
// the ends of its range). Data written before is not copied over.
func (s *schema) v6() []string {
	out := []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    minute_ns UInt64,
    scope UInt8,
    key %s
) ENGINE = %s
PARTITION BY %s
ORDER BY (minute_ns, scope, key)%s`,
		s.local(tableAttrNames), s.onCluster(), s.lc(),
		s.engine("ReplacingMergeTree", tableAttrNames+s.localSuffix()), partitionMin, s.ttl(partitionMin)),
		fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT %s AS minute_ns, s AS scope, k AS key
FROM %s
ARRAY JOIN attr_scopes AS s, attr_keys AS k
GROUP BY minute_ns, scope, key`,
			s.local("attribute_names_mv"), s.onCluster(), s.local(tableAttrNames), minuteOfStart, s.local(tableInput)),
	}
	if s.cluster != "" {
		out = append(out, s.distributed(tableAttrNames))
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
