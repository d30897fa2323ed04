package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Environment variables of the tests that need a ClickHouse server.
const (
	// envDSN is the native-protocol DSN of a throw-away server
	// (scripts/clickhouse.sh exports it).
	envDSN = "CLEW_CLICKHOUSE_DSN"
	// envRequire, set to 1, makes a missing server a failure, not a skip.
	envRequire = "CLEW_REQUIRE_CLICKHOUSE"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testDSN returns the server's DSN or skips the test (fails it when the
// server is required).
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("$%s is not set and $%s=1: start a server with scripts/clickhouse.sh", envDSN, envRequire)
		}
		t.Skipf("no ClickHouse server: set $%s (scripts/clickhouse.sh start -- go test ...) to run this test", envDSN)
	}
	return dsn
}

// testDatabase names a database for a test directory: the same directory
// reopens the same data, a new one starts empty.
func testDatabase(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return "clew_test_" + hex.EncodeToString(h[:6])
}

// openTest opens a DB on a database named after dir, dropped when the test
// ends.
func openTest(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	opts.DSN = testDSN(t)
	if opts.Database == "" {
		opts.Database = testDatabase(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	name := db.Database()
	t.Cleanup(func() { dropDatabase(t, opts.DSN, name, opts.Cluster) })
	t.Cleanup(func() { db.Close() })
	return db
}

// dropDatabase removes a test database.
func dropDatabase(t testing.TB, dsn, name, cluster string) {
	t.Helper()
	// NB: a benchmark's database of millions of spans, still merging,
	// takes over a minute to drop on a busy 18.16.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := Options{DSN: dsn}
	o.EnsureDefaults()
	conn, _, err := connect(ctx, &o)
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close()
	stmt := "DROP DATABASE IF EXISTS `" + name + "`"
	if cluster != "" {
		stmt += " ON CLUSTER `" + cluster + "`"
	}
	if err := conn.Exec(ctx, stmt); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}
