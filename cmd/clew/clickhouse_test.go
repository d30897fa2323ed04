package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/clew-tracing/clew/internal/storage/clickhouse/chtest"
)

func TestClickHouseSchemaCommand(t *testing.T) {
	f := func(args []string, want, notWant []string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"clickhouse", "schema"}, args...), &out, &errb); code != 0 {
			t.Fatalf("clew clickhouse schema %v: exit %d: %s", args, code, errb.String())
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("clew clickhouse schema %v: output lacks %q", args, w)
			}
		}
		for _, w := range notWant {
			if strings.Contains(out.String(), w) {
				t.Errorf("clew clickhouse schema %v: output has %q", args, w)
			}
		}
	}
	f(nil, []string{"SET allow_experimental_low_cardinality_type = 1", "CREATE TABLE IF NOT EXISTS `clew`.`spans`", "ENGINE = Null"},
		[]string{"CODEC", "TTL", " Map(", "ON CLUSTER"})
	f([]string{"--server-version=24.8", "--retention=72h", "--clickhouse-database=traces"},
		[]string{"`traces`.`trace_spans`", "CODEC(ZSTD(3))", "TTL toDate(intDiv(start_ns, 86400000000000)) + INTERVAL 3 DAY", "Map(LowCardinality(String), String)", "TYPE bloom_filter"},
		[]string{"allow_experimental_low_cardinality_type"})
	f([]string{"--clickhouse-cluster=prod"},
		[]string{"ON CLUSTER `prod`", "ReplicatedMergeTree('/clickhouse/tables/{shard}/clew/spans_local', '{replica}')", "Distributed(`prod`, `clew`, `spans_local`, cityHash64(trace_id))"}, nil)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"clickhouse", "schema", "--clickhouse-database=no-dashes"}, &out, &errb); code != 2 {
		t.Errorf("bad database name: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"clickhouse"}, &out, &errb); code != 2 {
		t.Errorf("clew clickhouse without a subcommand: exit %d, want 2", code)
	}
}

// clickhouseDSN returns $CLEW_CLICKHOUSE_DSN or skips (fails with
// $CLEW_REQUIRE_CLICKHOUSE=1).
func clickhouseDSN(t *testing.T, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("CLEW_REQUIRE_CLICKHOUSE") == "1" {
			t.Fatalf("$%s is not set and $CLEW_REQUIRE_CLICKHOUSE=1", env)
		}
		t.Skipf("no ClickHouse server: set $%s (scripts/clickhouse.sh) to run this test", env)
	}
	return dsn
}

// dropClickHouseDatabase drops a test database at the end of the test.
func dropClickHouseDatabase(t *testing.T, dsn, db, cluster string) {
	t.Cleanup(func() {
		opts, err := ch.ParseDSN(dsn)
		if err != nil {
			t.Error(err)
			return
		}
		conn, err := ch.Open(opts)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		stmt := "DROP DATABASE IF EXISTS `" + db + "`"
		if cluster != "" {
			stmt += " ON CLUSTER `" + cluster + "`"
		}
		if err := conn.Exec(context.Background(), stmt); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
}

// TestServeClickHouse runs two `clew serve --storage=clickhouse` processes
// on one database, as behind a load balancer: a trace whose spans went to
// different nodes is found whole from either, and a node killed mid-stream
// loses no acknowledged span.
func TestServeClickHouse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := clickhouseDSN(t, "CLEW_CLICKHOUSE_DSN")
	db := fmt.Sprintf("clew_e2e_%d", time.Now().UnixNano())
	dropClickHouseDatabase(t, dsn, db, "")
	bin := buildClew(t)
	flags := []string{"--storage=clickhouse", "--clickhouse-dsn=" + dsn, "--clickhouse-database=" + db, "--clickhouse-flush-interval=50ms"}
	testTwoNodes(t, bin, [2][]string{flags, flags})
}

// TestServeClickHouseCluster runs two `clew serve` processes on a
// two-shard ClickHouse cluster (ZooKeeper and two 18.16 servers), each
// node talking to its own server.
func TestServeClickHouseCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, starts ZooKeeper and two ClickHouse servers")
	}
	clickhouseDSN(t, "CLEW_CLICKHOUSE_DSN")
	if ok, why := chtest.Available(); !ok {
		if os.Getenv("CLEW_REQUIRE_CLICKHOUSE") == "1" {
			t.Fatalf("cluster test: %s and $CLEW_REQUIRE_CLICKHOUSE=1", why)
		}
		t.Skipf("cluster test: %s", why)
	}
	c := chtest.Start(t)
	bin := buildClew(t)
	var flags [2][]string
	for i := range flags {
		flags[i] = []string{"--storage=clickhouse", "--clickhouse-dsn=" + c.DSN(i), "--clickhouse-database=clew_e2e",
			"--clickhouse-cluster=" + chtest.TwoShards, "--clickhouse-replica-path=" + chtest.TwoShardsPath, "--clickhouse-flush-interval=50ms"}
	}
	testTwoNodes(t, bin, flags)
	for i := range 2 {
		out, err := c.Query(i, "SELECT count() FROM clew_e2e.trace_spans_local")
		if err != nil || strings.TrimSpace(out) == "0" {
			t.Errorf("shard %d: %q spans (%v); want some on each shard", i+1, out, err)
		}
	}
}

// testTwoNodes starts two Clew nodes with the given flags and checks the
// fleet's promises.
func testTwoNodes(t *testing.T, bin string, flags [2][]string) {
	nodes := [2]*proc{startClew(t, bin, t.TempDir(), flags[0]...), startClew(t, bin, t.TempDir(), flags[1]...)}
	otlp := func(i int) string { return "http://" + nodes[i].addrs["otlp-http"] + "/v1/traces" }
	api := func(i int) string { return "http://" + nodes[i].addrs["http"] }

	// One trace, its spans exported through both nodes.
	const traceID = "5b8efff798038103d269b633813fc60c"
	now := time.Now().Add(-time.Minute).UnixNano()
	for i, node := range []int{0, 1, 0, 1} {
		body := otlpSpan(traceID, i+1, i, fmt.Sprintf("svc-%d", node), now+int64(i)*1000)
		if code := chPost(t, otlp(node), body); code != 200 {
			t.Fatalf("export span %d to node %d: HTTP %d", i+1, node, code)
		}
	}
	for node := range nodes {
		if n := traceSpans(t, api(node), traceID); n != 4 {
			t.Errorf("node %d: trace %s has %d spans, want 4 (spans went to both nodes)", node, traceID, n)
		}
	}
	var svcs struct{ Data []string }
	chGetJSON(t, api(1)+"/api/services", &svcs)
	if strings.Join(svcs.Data, ",") != "svc-0,svc-1" {
		t.Errorf("node 1: services %v, want [svc-0 svc-1]", svcs.Data)
	}
	// The service graph joins parents and children written through
	// different nodes, and comes from the statistics, not a sample.
	for node := range nodes {
		var g struct {
			Complete   bool `json:"complete"`
			TracesRead int  `json:"tracesRead"`
			Edges      []struct {
				Parent    string `json:"parent"`
				Child     string `json:"child"`
				CallCount int    `json:"callCount"`
			} `json:"edges"`
		}
		chGetJSON(t, api(node)+"/api/clew/servicegraph?lookback=1h", &g)
		got := fmt.Sprint(g.Edges)
		if !g.Complete || g.TracesRead != 0 || got != "[{svc-0 svc-1 2} {svc-1 svc-0 1}]" {
			t.Errorf("node %d: servicegraph complete=%v tracesRead=%d edges %s, want [{svc-0 svc-1 2} {svc-1 svc-0 1}] from statistics",
				node, g.Complete, g.TracesRead, got)
		}
	}

	// Kill node 0 while clients export through both; every acknowledged
	// trace must be readable from node 1.
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("%08x%08x%016x", w+1, i, time.Now().UnixNano())
				resp, err := client.Post(otlp(w%2), "application/json", strings.NewReader(crashBatch(id, 5)))
				if err != nil {
					if w%2 == 1 {
						t.Errorf("export to the surviving node: %v", err)
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	nodes[0].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[0].exit
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d exports acknowledged", len(acked))
	}
	missing := 0
	for _, id := range acked {
		if n := traceSpans(t, api(1), id); n != 5 {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged trace %s: %d spans on the surviving node, want 5", id, n)
			}
		}
	}
	t.Logf("%d acknowledged traces, %d incomplete, after SIGKILL of one of two nodes", len(acked), missing)
	nodes[1].cmd.Process.Signal(syscall.SIGTERM)
	if err := <-nodes[1].exit; err != nil {
		t.Errorf("SIGTERM: exit %v", err)
	}
}

func otlpSpan(traceID string, span, parent int, service string, start int64) string {
	p := ""
	if parent > 0 {
		p = fmt.Sprintf("%016x", parent)
	}
	return fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},"scopeSpans":[{"spans":[`+
		`{"traceId":%q,"spanId":"%016x","parentSpanId":%q,"name":"op","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}]}]}]}`,
		service, traceID, span, p, start, start+1000)
}

func chPost(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func chGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// traceSpans returns the span count of a trace from the Jaeger API (0 when
// not found).
func traceSpans(t *testing.T, api, id string) int {
	t.Helper()
	var got struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	chGetJSON(t, api+"/api/traces/"+id, &got)
	if len(got.Data) != 1 {
		return 0
	}
	return len(got.Data[0].Spans)
}

func TestServeClickHouseFlags(t *testing.T) {
	t.Setenv("CLEW_CLICKHOUSE_DSN", "")
	var errb bytes.Buffer
	if _, _, _, err := parseServeFlags([]string{"--storage=clickhouse"}, &errb); err == nil || !strings.Contains(err.Error(), "clickhouse-dsn") {
		t.Errorf("--storage=clickhouse without a DSN: %v", err)
	}
	t.Setenv("CLEW_CLICKHOUSE_BATCH_SIZE", "500")
	cfg, _, _, err := parseServeFlags([]string{"--storage=clickhouse", "--clickhouse-dsn=clickhouse://ch:9000", "--clickhouse-cluster=c",
		"--clickhouse-flush-interval=1s", "--clickhouse-insert-quorum=2", "--clickhouse-replica-path=/p/{shard}",
		"--clickhouse-edge-rollup-interval=-1s", "--clickhouse-edge-rollup-settle=5m"}, &errb)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.ClickHouse
	if c.DSN != "clickhouse://ch:9000" || c.Cluster != "c" || c.Database != "clew" || c.BatchSize != 500 ||
		c.FlushInterval != time.Second || c.InsertQuorum != 2 || c.ReplicaPath != "/p/{shard}" ||
		c.EdgeRollupInterval != -time.Second || c.EdgeRollupSettle != 5*time.Minute {
		t.Errorf("clickhouse config %+v", c)
	}
}
