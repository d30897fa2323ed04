package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/clickhouse/chtest"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// startCluster starts ZooKeeper and two ClickHouse servers, or skips the
// test where the ClickHouse tests do not run.
func startCluster(t *testing.T) *chtest.Cluster {
	t.Helper()
	testDSN(t)
	if testing.Short() || raceEnabled {
		t.Skip("starts ZooKeeper and two ClickHouse servers (not in -short or -race runs)")
	}
	if ok, why := chtest.Available(); !ok {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("cluster test: %s and $%s=1", why, envRequire)
		}
		t.Skipf("cluster test: %s", why)
	}
	return chtest.Start(t)
}

// openCluster opens a Clew node on a cluster; the database is dropped ON
// CLUSTER at the end of the test.
func openCluster(t *testing.T, dsn, db, cluster, path string, opts Options) *DB {
	t.Helper()
	opts.DSN, opts.Database, opts.Cluster, opts.ReplicaPath = dsn, db, cluster, path
	d, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open on cluster %s: %v", cluster, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestCluster runs Clew nodes on ZooKeeper and two ClickHouse 18.16
// servers: replicated (one shard, two replicas) and sharded (two shards).
func TestCluster(t *testing.T) {
	c := startCluster(t)
	t.Run("Replicated", func(t *testing.T) { testReplicated(t, c) })
	t.Run("TwoShards", func(t *testing.T) { testTwoShards(t, c) })
}

// testReplicated: two Clew nodes, each on its own replica (failing over to
// the other), write with insert_quorum=2. A trace whose spans went through
// different nodes is whole on both; killing a replica while writing loses
// no acknowledged span; the replica catches up after its restart.
func testReplicated(t *testing.T, c *chtest.Cluster) {
	ctx := context.Background()
	const dbName = "clew_repl"
	opts := Options{InsertQuorum: 2, FlushInterval: 20 * time.Millisecond}
	a := openCluster(t, c.FailoverDSN(0), dbName, chtest.Replicated, chtest.ReplicatedPath, opts)
	b := openCluster(t, c.FailoverDSN(1), dbName, chtest.Replicated, chtest.ReplicatedPath, opts)
	t.Cleanup(func() { c.Query(0, "DROP DATABASE IF EXISTS "+dbName+" ON CLUSTER "+chtest.Replicated) })

	base := time.Now().Add(-time.Hour)
	spans := storagetest.GenerateTraces(11, 20, 6, base)
	// Batches of 4 spans, alternating nodes: most traces are split.
	start := time.Now()
	for i, c := range slices.Collect(slices.Chunk(spans, 4)) {
		node := a
		if i%2 == 1 {
			node = b
		}
		if err := node.Write(ctx, c); err != nil {
			t.Fatalf("write batch %d: %v", i, err)
		}
	}
	t.Logf("%d spans written in %v", len(spans), time.Since(start).Round(time.Millisecond))
	for name, node := range map[string]*DB{"a": a, "b": b} {
		checkAll(t, node, spans, "node "+name)
	}
	if out, err := c.Query(1, "SELECT count() FROM "+dbName+".trace_spans_local"); err != nil || strings.TrimSpace(out) != fmt.Sprint(len(spans)) {
		t.Errorf("replica 2 holds %q spans (%v), want %d", out, err, len(spans))
	}

	// Write continuously through both nodes, kill replica 1 (node a's
	// first choice), keep writing a little, and check every acknowledged
	// trace on replica 2.
	var mu sync.Mutex
	var acked []*model.Span
	var failed int
	stop := make(chan struct{})
	writing := time.Now()
	var wg sync.WaitGroup
	for w, node := range []*DB{a, b} {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tr := storagetest.GenerateTraces(int64(1000+w*100000+i), 1, 3, base.Add(time.Duration(i)*time.Millisecond))
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := node.Write(wctx, tr)
				cancel()
				mu.Lock()
				if err == nil {
					acked = append(acked, tr...)
				} else {
					failed++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= n {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(45)
	c.Kill(0)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("replica 1 killed after %v of writes: %d spans acknowledged, %d writes refused", time.Since(writing).Round(time.Millisecond), len(acked), failed)
	// Node b's first choice is the surviving replica.
	checkAll(t, b, acked, "surviving replica")

	// After a restart, replica 1 catches up and new writes succeed.
	c.Start(0)
	deadline := time.Now().Add(60 * time.Second)
	want := len(spans) + len(acked)
	for {
		out, err := c.Query(0, "SELECT count() FROM "+dbName+".trace_spans_local")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		if err == nil && n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("restarted replica holds %q spans (%v), want at least %d", out, err, want)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	more := storagetest.GenerateTraces(99, 2, 3, base)
	// The first tries may fail: pooled connections to the killed server,
	// and 18.16 refuses a quorum insert while an earlier one (refused
	// when the replica died) still waits for its second replica.
	var err error
	restarted := time.Now()
	for time.Since(restarted) < 90*time.Second {
		if err = a.Write(ctx, more); err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("write after the replica's restart: %v", err)
	} else {
		t.Logf("writes accepted again %v after the replica's restart", time.Since(restarted).Round(time.Millisecond))
	}
}

// testTwoShards: the Distributed tables spread traces over two shards by
// trace ID; every trace is whole from either node, and searches, the
// catalog and dependencies see both shards.
func testTwoShards(t *testing.T, c *chtest.Cluster) {
	ctx := context.Background()
	const dbName = "clew_shards"
	// The nodes' loops do not run: the test rolls up edges and drops
	// partitions itself, at the moments it checks.
	opts := Options{FlushInterval: 20 * time.Millisecond, EdgeRollupSettle: time.Second, noLoops: true}
	a := openCluster(t, c.DSN(0), dbName, chtest.TwoShards, chtest.TwoShardsPath, opts)
	b := openCluster(t, c.DSN(1), dbName, chtest.TwoShards, chtest.TwoShardsPath, opts)
	t.Cleanup(func() { c.Query(0, "DROP DATABASE IF EXISTS "+dbName+" ON CLUSTER "+chtest.TwoShards) })

	base := time.Now().Add(-time.Hour)
	spans := storagetest.GenerateTraces(12, 40, 6, base)
	for i, c := range slices.Collect(slices.Chunk(spans, 8)) {
		node := a
		if i%3 == 0 {
			node = b
		}
		if err := node.Write(ctx, c); err != nil {
			t.Fatalf("write batch %d: %v", i, err)
		}
	}
	var per [2]string
	for i := range per {
		out, err := c.Query(i, "SELECT count() FROM "+dbName+".trace_spans_local")
		if err != nil {
			t.Fatal(err)
		}
		per[i] = strings.TrimSpace(out)
		if per[i] == "0" {
			t.Errorf("shard %d holds no span: traces are not spread", i+1)
		}
	}
	t.Logf("spans per shard: %v", per)
	for name, node := range map[string]*DB{"a": a, "b": b} {
		checkAll(t, node, spans, "node "+name)
		q := &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: 1000}
		res, err := node.FindTraces(ctx, q)
		if err != nil || len(res) != 40 {
			t.Errorf("node %s: FindTraces(frontend): %d traces, %v; want 40", name, len(res), err)
		}
		for _, r := range res {
			if r.SpanCount != 6 {
				t.Errorf("node %s: summary of %s has %d spans, want 6", name, r.TraceID, r.SpanCount)
				break
			}
		}
		svcs, err := node.Services(ctx)
		if err != nil || len(svcs) < 5 {
			t.Errorf("node %s: Services: %v, %v", name, svcs, err)
		}
		deps, err := node.Dependencies(ctx, storage.TimeRange{})
		if err != nil || len(deps) == 0 {
			t.Errorf("node %s: Dependencies: %v, %v", name, deps, err)
		}
	}
	// The same dependencies as memstore's (the reference) on these spans.
	acc := map[storage.DependencyKey]*storage.Dependency{}
	for _, tr := range byTraceID(spans) {
		storage.AddDependencies(acc, tr, storage.TimeRange{})
	}
	want := storage.SortedDependencies(acc)
	got, err := b.Dependencies(ctx, storage.TimeRange{})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Dependencies across shards:\n got %v (%v)\nwant %v", got, err, want)
	}

	// Edge statistics: live right after the writes, then rolled up by
	// both nodes at once through the Distributed table (cells sharded by
	// minute and edge), from either node.
	qs := edgeQueries(base.Truncate(time.Minute), 3)
	checkEdges(t, a, spans, qs, "two shards, live")
	time.Sleep(opts.EdgeRollupSettle + time.Second)
	var wg sync.WaitGroup
	for _, node := range []*DB{a, b} {
		wg.Go(func() {
			if _, err := node.rollupEdges(ctx); err != nil {
				t.Errorf("rollupEdges: %v", err)
			}
		})
	}
	wg.Wait()
	rollUpAll(t, b)
	var cells [2]string
	for i := range cells {
		out, err := c.Query(i, "SELECT count() FROM "+dbName+".edge_minutes_local")
		if err != nil {
			t.Fatal(err)
		}
		cells[i] = strings.TrimSpace(out)
	}
	t.Logf("edge cells per shard: %v", cells)
	checkEdges(t, a, spans, qs, "two shards, rolled up, node a")
	checkEdges(t, b, spans, qs, "two shards, rolled up, node b")

	testClusterRetention(t, c, dbName)
}

// testClusterRetention: a node lists the expired partitions of every
// shard, not only its own server's, and drops them ON CLUSTER. The
// expired trace lives on one shard; the node that drops it is connected to
// the other one, whose system.parts does not know the day.
func testClusterRetention(t *testing.T, c *chtest.Cluster, dbName string) {
	ctx := context.Background()
	now := time.Now()
	old := storagetest.GenerateTraces(77, 1, 4, now.Add(-5*24*time.Hour))
	day := now.Add(-5 * 24 * time.Hour).UTC().Format("2006-01-02")
	partsOf := func(i int) string {
		t.Helper()
		out, err := c.Query(i, "SELECT count() FROM system.parts WHERE active AND database = '"+dbName+"' AND partition = '"+day+"'")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	writer := openCluster(t, c.DSN(0), dbName, chtest.TwoShards, chtest.TwoShardsPath, Options{noLoops: true})
	if err := writer.Write(ctx, old); err != nil {
		t.Fatal(err)
	}
	holder := 0
	if partsOf(0) == "0" {
		holder = 1
	}
	if partsOf(holder) == "0" || partsOf(1-holder) != "0" {
		t.Fatalf("the expired trace is on shards with %s and %s parts of %s, want one", partsOf(0), partsOf(1), day)
	}
	node := openCluster(t, c.DSN(1-holder), dbName, chtest.TwoShards, chtest.TwoShardsPath,
		Options{Retention: 48 * time.Hour, now: func() time.Time { return now }, noLoops: true})
	n, err := node.DropExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("DropExpired on server %d dropped nothing; server %d holds %s parts of %s", 2-holder, holder+1, partsOf(holder), day)
	}
	// ON CLUSTER DDL runs on each server through its queue: wait for it.
	deadline := time.Now().Add(30 * time.Second)
	for partsOf(holder) != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("server %d still holds %s parts of %s after DropExpired", holder+1, partsOf(holder), day)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("DropExpired on server %d dropped %d partitions of server %d", 2-holder, n, holder+1)
	if _, err := node.Trace(ctx, old[0].TraceID, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Trace of the expired day: %v, want ErrNotFound", err)
	}
}

func byTraceID(spans []*model.Span) map[model.TraceID][]*model.Span {
	m := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		m[s.TraceID] = append(m[s.TraceID], s)
	}
	return m
}

// checkAll asserts that every trace of spans is stored whole.
func checkAll(t *testing.T, db *DB, spans []*model.Span, what string) {
	t.Helper()
	bad := 0
	for id, want := range byTraceID(spans) {
		tr, err := db.Trace(context.Background(), id, storage.TimeRange{})
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) || bad < 3 {
				t.Errorf("%s: Trace(%s): %v", what, id, err)
			}
			bad++
			continue
		}
		if d := storagetest.DiffSpans(want, tr.Spans); d != "" {
			if bad < 3 {
				t.Errorf("%s: Trace(%s): %s", what, id, d)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d traces missing or incomplete", what, bad, len(byTraceID(spans)))
	}
}
