//go:build race

package clickhouse

// raceEnabled is true in -race builds: the cluster test, which tests
// ClickHouse's replication rather than Go concurrency, skips there.
const raceEnabled = true
