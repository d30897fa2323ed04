// Package clickhouse is Clew's distributed engine: a storage.Backend on a
// ClickHouse server or cluster, for fleets of stateless `clew serve`
// nodes behind a load balancer (docs/deployment.md).
//
// [Open] connects, reads the server version to pick a [Dialect] (the
// compat one Debian's ClickHouse 18.16 accepts, or the modern one with
// codecs, skip indexes, TTL, Map and DateTime64), and creates or migrates
// the schema: versioned, idempotent migrations recorded in
// schema_migrations. [Schema] prints the same DDL for DBAs.
//
// Writes are grouped into batched inserts into a Null table whose
// materialized views fill the search table (spans), the trace table
// (trace_spans: whole spans in the format of docs/format/clickhouse-span.md,
// ordered by trace ID), the trace index (trace ID → first start, last end),
// the per-minute RED statistics with the latency sketch's bucket counts
// (operation_minutes), the attribute keys per minute (attribute_names) and
// the per-minute write marks of the edge rollups (rollup_minutes). A Write
// returns once ClickHouse accepted its insert.
//
// Reads: Trace asks the trace index for the trace's time span and reads
// trace_spans by primary key; FindTraces turns the query's conditions into
// SQL over the search table (bound parameters, the matcher's exact rules),
// evaluates in Go what SQL cannot, and orders the traces by the index;
// Services, Operations and OperationStats (storage.StatsReader) read the
// RED aggregates, rebuilding sketches from their bucket counts;
// AttributeNames reads the attribute keys per minute; Dependencies joins
// child and parent spans; EdgeStats reads the service edges that a
// background loop of every node rolls up per minute (edge_minutes), and
// joins live the minutes not rolled up since their last write (edges.go).
// Retention drops day partitions, of every shard with a cluster.
//
// A DB is safe for concurrent use, and many DBs (in many processes) may
// share one database.
package clickhouse
