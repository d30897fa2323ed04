package clickhouse

import (
	"strings"
	"testing"
	"time"
)

func TestDialectFor(t *testing.T) {
	f := func(version string, modern, lcSetting bool) {
		t.Helper()
		d, err := DialectFor(version)
		if err != nil {
			t.Fatalf("DialectFor(%q): %v", version, err)
		}
		if d.Modern != modern || d.LowCardinalitySetting != lcSetting {
			t.Errorf("DialectFor(%q) = %+v, want modern=%v lowCardinalitySetting=%v", version, d, modern, lcSetting)
		}
	}
	f("18.16.1", false, true)
	f("19.17.4", false, false)
	f("23.3.1", false, false)
	f("23.8.2", true, false)
	f("26.5.1.1", true, false)
	if _, err := DialectFor("unknown"); err == nil {
		t.Error("DialectFor(unknown) succeeded")
	}
}

// TestSchemaDDL checks the generated DDL of each dialect and layout: the
// compat dialect must hold nothing 18.16 rejects, the modern one must use
// what modern servers have, and the cluster layout must be replicated and
// distributed.
func TestSchemaDDL(t *testing.T) {
	compat, _ := DialectFor("18.16.1")
	modern, _ := DialectFor("26.5.1")
	script := func(o SchemaOptions) string {
		t.Helper()
		s, err := Schema(o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	has := func(name, s string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: DDL lacks %q", name, w)
			}
		}
	}
	hasNot := func(name, s string, bad ...string) {
		t.Helper()
		for _, b := range bad {
			if strings.Contains(s, b) {
				t.Errorf("%s: DDL has %q", name, b)
			}
		}
	}

	c := script(SchemaOptions{Dialect: compat, Retention: 72 * time.Hour})
	// 18.16 has none of these (engines.md §1.2).
	hasNot("compat", c, "CODEC", "TTL", " Map(", "DateTime64", "INDEX ", "bloom_filter", "toStartOfInterval", "ON CLUSTER", "Replicated", "Distributed")
	has("compat", c,
		"SET allow_experimental_low_cardinality_type = 1",
		"PARTITION BY toDate(intDiv(start_ns, 86400000000000))",
		"ORDER BY (service, name, start_ns)", "ORDER BY (trace_id, start_ns)", "ORDER BY trace_id",
		"ENGINE = Null", "AggregatingMergeTree()", "ReplacingMergeTree(version)",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `clew`.`spans_mv` TO `clew`.`spans`",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `clew`.`operation_minutes_mv` TO `clew`.`operation_minutes`",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `clew`.`rollup_minutes_mv` TO `clew`.`rollup_minutes`",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `clew`.`attribute_names_mv` TO `clew`.`attribute_names`",
		"DROP TABLE IF EXISTS `clew`.`operation_stats_mv`", "DROP TABLE IF EXISTS `clew`.`operation_stats`",
		// The sketch's bucket formula, with sketch.LogGamma() exactly.
		"ceil(log(greatest(duration_ns, 1)) / 0.020000666706669435)")
	// A new database never creates the retired table.
	hasNot("compat", c, "CREATE TABLE IF NOT EXISTS `clew`.`operation_stats`", "quantilesState")

	m := script(SchemaOptions{Dialect: modern, Retention: 36 * time.Hour, Database: "traces"})
	has("modern", m,
		"start_ns UInt64 CODEC(Delta, ZSTD(1))", "duration_ns UInt64 CODEC(T64, ZSTD(1))", "span String CODEC(ZSTD(3))",
		"TTL toDate(intDiv(start_ns, 86400000000000)) + INTERVAL 2 DAY", "TTL day + INTERVAL 2 DAY",
		"start_time DateTime64(9) MATERIALIZED", "span_attributes Map(LowCardinality(String), String) MATERIALIZED",
		"INDEX idx_trace_id trace_id TYPE bloom_filter(0.001)", "INDEX idx_attr_keys attr_keys TYPE bloom_filter",
		"`traces`.`spans`")
	hasNot("modern", m, "allow_experimental_low_cardinality_type", "`clew`.")
	if n := strings.Count(m, "TTL "); n != len(dataTables) {
		t.Errorf("modern: %d TTL clauses, want %d (one per table with day partitions)", n, len(dataTables))
	}
	if strings.Contains(script(SchemaOptions{Dialect: modern}), "TTL ") {
		t.Error("modern without retention: DDL has a TTL")
	}

	cl := script(SchemaOptions{Dialect: compat, Cluster: "spans_cluster", ReplicaPath: "/ch/{shard}"})
	has("cluster", cl,
		"CREATE DATABASE IF NOT EXISTS `clew` ON CLUSTER `spans_cluster`",
		"CREATE TABLE IF NOT EXISTS `clew`.`spans_local` ON CLUSTER `spans_cluster`",
		"ENGINE = ReplicatedMergeTree('/ch/{shard}/clew/spans_local', '{replica}')",
		"ENGINE = ReplicatedAggregatingMergeTree('/ch/{shard}/clew/trace_index_local', '{replica}')",
		"CREATE TABLE IF NOT EXISTS `clew`.`spans_input` ON CLUSTER `spans_cluster` AS `clew`.`spans_input_local`\nENGINE = Distributed(`spans_cluster`, `clew`, `spans_input_local`, cityHash64(trace_id))",
		"TO `clew`.`trace_spans_local` AS", "FROM `clew`.`spans_input_local`",
		"Distributed(`spans_cluster`, `clew`, `operation_minutes_local`, rand())",
		"Distributed(`spans_cluster`, `clew`, `edge_minutes_local`, cityHash64(minute_ns, parent, child))",
		"ENGINE = ReplicatedReplacingMergeTree('/ch/{shard}/clew/edge_minutes_local', '{replica}', version)",
		"DROP TABLE IF EXISTS `clew`.`operation_stats_mv_local` ON CLUSTER `spans_cluster`",
		"DROP TABLE IF EXISTS `clew`.`operation_stats` ON CLUSTER `spans_cluster`",
		"CREATE TABLE IF NOT EXISTS `clew`.`cluster_parts` ON CLUSTER `spans_cluster` (",
		"ENGINE = Distributed(`spans_cluster`, system, parts)")

	for _, bad := range []SchemaOptions{{Database: "a-b"}, {Cluster: "x;y"}, {ReplicaPath: "/a'b"}} {
		if _, err := Schema(bad); err == nil {
			t.Errorf("Schema(%+v) accepted", bad)
		}
	}
}
