package clickhouse

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// span makes a span of its own trace.
func span(trace byte, svc, name string, start time.Time, dur time.Duration, status model.StatusCode) *model.Span {
	return &model.Span{
		TraceID: model.TraceID{0xab, 15: trace}, SpanID: model.SpanID{7: trace},
		Name: name, Kind: model.KindServer, StatusCode: status,
		StartUnixNano: uint64(start.UnixNano()), EndUnixNano: uint64(start.Add(dur).UnixNano()),
		Resource: &model.Resource{ServiceName: svc},
	}
}

// TestRetentionDropsDayPartitions: DropExpired drops the expired days of
// every table with day partitions and keeps the rest.
//
// NB: the DB is opened without its background loops. With them, the
// retention loop's first DropExpired (at Open) could run while the write
// below was being inserted, list the partitions the views had created so
// far and drop them: the "12 partitions, want 13" this test once failed
// with under -race, where that goroutine starts late.
func TestRetentionDropsDayPartitions(t *testing.T) {
	now := time.Now()
	db := openTest(t, t.TempDir(), Options{Retention: 48 * time.Hour, now: func() time.Time { return now }, noLoops: true, EdgeRollupSettle: time.Second})
	ctx := context.Background()
	spans := []*model.Span{
		span(1, "old5", "op", now.Add(-5*24*time.Hour), time.Millisecond, 0),
		span(2, "old3", "op", now.Add(-3*24*time.Hour), time.Millisecond, 0),
		span(3, "new", "op", now.Add(-time.Hour), time.Millisecond, 0),
	}
	spans[2].Attributes = []model.KeyValue{{Key: "k", Value: model.StringValue("v")}}
	spans[1].Attributes = spans[2].Attributes
	spans[0].Attributes = spans[2].Attributes
	if err := db.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	// Roll up the edges of every minute, so that edge_minutes has rows
	// (no edges here: a parent in another service, below, gives it some).
	child := span(3, "child", "op", now.Add(-time.Hour), time.Millisecond, 0)
	child.SpanID, child.ParentSpanID = model.SpanID{7: 9}, spans[2].SpanID
	old := span(1, "child", "op", now.Add(-5*24*time.Hour), time.Millisecond, 0)
	old.SpanID, old.ParentSpanID = model.SpanID{7: 9}, spans[0].SpanID
	if err := db.Write(ctx, []*model.Span{child, old}); err != nil {
		t.Fatal(err)
	}
	rollUpAll(t, db)
	partitions := func() map[string]int {
		t.Helper()
		rows, err := db.conn.Query(ctx, "SELECT table, uniqExact(partition) FROM system.parts WHERE active AND database = ? GROUP BY table", db.Database())
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var table string
			var n uint64
			if err := rows.Scan(&table, &n); err != nil {
				t.Fatal(err)
			}
			out[table] = int(n)
		}
		return out
	}
	// 3 days in every table with day partitions but edge_minutes, which
	// has the day of the one edge the rollup considers (the other is too
	// old, see rollupFloor); the migrations table's single partition.
	want := map[string]int{tableMigrations: 1, tableEdgeMinutes: 1}
	for _, tbl := range dataTables {
		if tbl != tableEdgeMinutes {
			want[tbl] = 3
		}
	}
	if got := partitions(); !reflect.DeepEqual(got, want) {
		t.Errorf("before retention: partitions per table %v, want %v", got, want)
	}
	n, err := db.DropExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wantN := 2 * (len(dataTables) - 1); n != wantN {
		t.Errorf("DropExpired dropped %d partitions, want %d (2 days × %d tables)", n, wantN, len(dataTables)-1)
	}
	for tbl := range want {
		if tbl != tableMigrations {
			want[tbl] = 1
		}
	}
	if got := partitions(); !reflect.DeepEqual(got, want) {
		t.Errorf("after retention: partitions per table %v, want %v", got, want)
	}
	for _, s := range spans[:2] {
		if _, err := db.Trace(ctx, s.TraceID, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Trace(%s) of an expired day: err %v, want ErrNotFound", s.TraceID, err)
		}
	}
	if _, err := db.Trace(ctx, spans[2].TraceID, storage.TimeRange{}); err != nil {
		t.Errorf("Trace of a kept day: %v", err)
	}
	if svcs, err := db.Services(ctx); err != nil || !slices.Equal(svcs, []string{"child", "new"}) {
		t.Errorf("Services after retention: %v, %v; want [child new]", svcs, err)
	}
	if res, err := db.FindTraces(ctx, &storage.Query{}); err != nil || len(res) != 1 {
		t.Errorf("FindTraces after retention: %d traces, %v; want 1", len(res), err)
	}
	if es, err := db.EdgeStats(ctx, storage.StatsQuery{}); err != nil || len(es) != 1 || es[0].Parent != "new" || len(es[0].Buckets) != 1 || es[0].Buckets[0].Calls != 1 {
		t.Errorf("EdgeStats after retention: %+v, %v; want new -> child once", es, err)
	}
	if n, err := db.DropExpired(ctx); err != nil || n != 0 {
		t.Errorf("second DropExpired: %d, %v; want 0, nil", n, err)
	}
}

func TestMigrations(t *testing.T) {
	dsn := testDSN(t)
	ctx := context.Background()
	dir := t.TempDir()
	name := testDatabase(dir)
	t.Cleanup(func() { dropDatabase(t, dsn, name, "") })

	// A database at version 1, as an older Clew left it.
	o := Options{DSN: dsn, Database: name}
	o.EnsureDefaults()
	conn, _, err := connect(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := DialectFor("18.16")
	old := &DB{opts: o, conn: conn, dialect: d, log: o.Logger, schema: schema{db: name, dialect: d, replicaPath: o.ReplicaPath}}
	if err := old.migrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	versions := func() []uint32 {
		t.Helper()
		rows, err := conn.Query(ctx, "SELECT version FROM `"+name+"`.schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []uint32
		for rows.Next() {
			var v uint32
			rows.Scan(&v)
			out = append(out, v)
		}
		return out
	}
	if v := versions(); !slices.Equal(v, []uint32{1}) {
		t.Fatalf("after migrating to 1: versions %v", v)
	}
	// Then at version 2 as Clew left it before migration 3 retired it:
	// operation_stats and its view (the DDL of that version), with data.
	for _, st := range []string{
		"CREATE TABLE `" + name + "`.operation_stats (minute_ns UInt64, service LowCardinality(String), name LowCardinality(String), kind UInt8, " +
			"calls AggregateFunction(count), errors AggregateFunction(sum, UInt64), duration_sum AggregateFunction(sum, UInt64), " +
			"duration_quantiles AggregateFunction(quantiles(0.5, 0.9, 0.99), UInt64)) ENGINE = AggregatingMergeTree() " +
			"PARTITION BY toDate(intDiv(minute_ns, 86400000000000)) ORDER BY (service, name, kind, minute_ns)",
		"CREATE MATERIALIZED VIEW `" + name + "`.operation_stats_mv TO `" + name + "`.operation_stats AS " +
			"SELECT intDiv(start_ns, 60000000000) * 60000000000 AS minute_ns, service, name, kind, countState() AS calls, " +
			"sumState(toUInt64(status_code = 2)) AS errors, sumState(duration_ns) AS duration_sum, " +
			"quantilesState(0.5, 0.9, 0.99)(duration_ns) AS duration_quantiles FROM `" + name + "`.spans_input GROUP BY minute_ns, service, name, kind",
	} {
		if err := old.exec(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.recordMigration(ctx, migration{version: 2, description: "per-operation RED statistics"}); err != nil {
		t.Fatal(err)
	}
	old.w = newWriter(old)
	old.metrics = newMetrics(nil)
	if err := old.Write(ctx, []*model.Span{span(9, "before", "op", time.Now().Add(-time.Minute), time.Millisecond, 0)}); err != nil {
		t.Fatal(err)
	}
	old.w.close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM `"+name+"`.operation_stats").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the version 2 database: operation_stats holds %d rows (%v)", n, err)
	}

	// Open migrates to the newest version; opening again changes nothing.
	for range 2 {
		db := openTest(t, dir, Options{})
		if err := db.Write(ctx, []*model.Span{span(1, "svc", "op", time.Now().Add(-time.Minute), time.Millisecond, 0)}); err != nil {
			t.Fatal(err)
		}
		// The service written before the migration is not listed: the
		// statistics start with migration 3 (docs/deployment.md).
		if svcs, err := db.Services(ctx); err != nil || !slices.Equal(svcs, []string{"svc"}) {
			t.Errorf("Services after migration: %v, %v", svcs, err)
		}
		if _, err := db.Trace(ctx, model.TraceID{0xab, 15: 9}, storage.TimeRange{}); err != nil {
			t.Errorf("a trace written before the migration: %v", err)
		}
		var left uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name LIKE 'operation_stats%'", name).Scan(&left); err != nil || left != 0 {
			t.Errorf("after migration 3: %d operation_stats tables left (%v)", left, err)
		}
		db.Close()
		if v := versions(); !slices.Equal(v, []uint32{1, 2, 3, 4, 5, 6}) {
			t.Errorf("after Open: versions %v, want [1 … 6]", v)
		}
	}

	// A database from a newer Clew is refused.
	b, err := conn.PrepareBatch(ctx, "INSERT INTO `"+name+"`.schema_migrations (version, description, applied_ns)")
	if err != nil {
		t.Fatal(err)
	}
	b.Append(uint32(99), "future", uint64(0))
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	o2 := Options{DSN: dsn, Database: name}
	if db, err := Open(ctx, o2); err == nil {
		db.Close()
		t.Error("Open of a database with schema version 99 succeeded")
	}
}

// TestOperationStats: the statistics of operation_minutes, merged over
// inserts and buckets, with sketches rebuilt from ClickHouse's buckets.
func TestOperationStats(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	spans := []*model.Span{
		span(1, "shop", "checkout", at, time.Millisecond, 0),
		span(2, "shop", "checkout", at.Add(time.Second), 2*time.Millisecond, model.StatusError),
		span(3, "shop", "checkout", at.Add(2*time.Minute), 3*time.Millisecond, 0),
		span(4, "cart", "get", at, 10*time.Millisecond, 0),
		span(5, "shop", "checkout", at.Add(3*time.Second), 0, 0), // a zero duration
	}
	// Two inserts, so that the aggregates of one minute merge.
	if err := db.Write(ctx, spans[:2]); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, spans[2:]); err != nil {
		t.Fatal(err)
	}
	start := uint64(at.UnixNano())
	got, err := db.OperationStats(ctx, storage.StatsQuery{Service: "shop", Range: storage.TimeRange{Start: start}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Buckets) != 1 {
		t.Fatalf("OperationStats(shop): %+v", got)
	}
	g, bk := got[0], got[0].Buckets[0]
	lat := &bk.Latency
	if g.Operation != "checkout" || g.Kind != model.KindServer || bk.StartUnixNano != start || bk.Calls != 4 || bk.Errors != 1 ||
		lat.Count() != 4 || lat.Sum() != float64(6*time.Millisecond) || lat.Min() != 0 || lat.Max() != float64(3*time.Millisecond) {
		t.Errorf("OperationStats(shop) = %+v", got)
	}
	var want sketch.Sketch
	for _, s := range []*model.Span{spans[0], spans[1], spans[2], spans[4]} {
		want.Add(float64(s.Duration()))
	}
	for _, q := range []float64{0.25, 0.5, 0.75, 0.99} {
		if g, w := lat.Quantile(q), want.Quantile(q); g != w {
			t.Errorf("p%v = %v, want %v (the Go sketch's)", q*100, g, w)
		}
	}
	// Minute buckets, from half a minute into the first: the first cell
	// counts whole in the first bucket.
	got, err = db.OperationStats(ctx, storage.StatsQuery{Range: storage.TimeRange{Start: start + uint64(30*time.Second), End: start + uint64(3*time.Minute)}, Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Service != "cart" || got[1].Service != "shop" || len(got[1].Buckets) != 2 ||
		got[1].Buckets[0].StartUnixNano != start+uint64(30*time.Second) || got[1].Buckets[0].Calls != 3 ||
		got[1].Buckets[1].StartUnixNano != start+uint64(90*time.Second) || got[1].Buckets[1].Calls != 1 {
		t.Errorf("OperationStats(minute steps) = %+v", got)
	}
	// An operation filter, and a range before the data.
	if got, err := db.OperationStats(ctx, storage.StatsQuery{Operation: "get"}); err != nil || len(got) != 1 || got[0].Service != "cart" {
		t.Errorf("OperationStats(get) = %+v, %v", got, err)
	}
	if got, err := db.OperationStats(ctx, storage.StatsQuery{Range: storage.TimeRange{End: start - 1}}); err != nil || len(got) != 0 {
		t.Errorf("OperationStats(before the data) = %+v, %v", got, err)
	}
}

func TestWriteOverloadAndFailure(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{BatchSize: 1000, FlushInterval: time.Hour, MaxPendingSpans: 10})
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	first := make(chan error, 1)
	go func() {
		var spans []*model.Span
		for i := range 8 {
			spans = append(spans, span(byte(i+1), "svc", "op", start, time.Millisecond, 0))
		}
		first <- db.Write(ctx, spans)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.w.mu.Lock()
		q := db.w.queue
		db.w.mu.Unlock()
		if q == 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	more := []*model.Span{span(20, "svc", "op", start, time.Millisecond, 0), span(21, "svc", "op", start, time.Millisecond, 0), span(22, "svc", "op", start, time.Millisecond, 0)}
	if err := db.Write(ctx, more); !errors.Is(err, storage.ErrOverloaded) {
		t.Errorf("Write past MaxPendingSpans: %v, want storage.ErrOverloaded", err)
	}
	// A Write whose context ends stops waiting (its spans may still go).
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	if err := db.Write(cctx, more[:1]); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write with an expiring context: %v", err)
	}
	cancel()
	// Close sends what is pending and acknowledges it.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("pending Write acknowledged at Close: %v", err)
	}

	// An insert ClickHouse refuses fails every Write of the batch with an
	// error that is not overload (receivers answer 503, clients retry);
	// once ClickHouse accepts again, so do the writes.
	db = openTest(t, dir, Options{})
	if res, err := db.FindTraces(ctx, &storage.Query{Limit: 100}); err != nil || len(res) != 9 {
		t.Errorf("after Close: %d traces stored (%v), want 9", len(res), err)
	}
	input := db.schema.q(tableInput)
	if err := db.exec(ctx, "RENAME TABLE "+input+" TO "+db.schema.q("spans_input_away")); err != nil {
		t.Fatal(err)
	}
	err := db.Write(ctx, []*model.Span{span(30, "svc", "op", start, time.Millisecond, 0)})
	if err == nil || errors.Is(err, storage.ErrOverloaded) {
		t.Errorf("Write while ClickHouse refuses inserts: %v, want a non-overload error", err)
	}
	if err := db.exec(ctx, "RENAME TABLE "+db.schema.q("spans_input_away")+" TO "+input); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, []*model.Span{span(30, "svc", "op", start, time.Millisecond, 0)}); err != nil {
		t.Errorf("Write after ClickHouse recovered: %v", err)
	}
	if _, err := db.Trace(ctx, model.TraceID{0xab, 15: 30}, storage.TimeRange{}); err != nil {
		t.Errorf("Trace written after recovery: %v", err)
	}
}

// TestDuplicateWritesReadOnce: a retried export (the same spans written
// twice) is read once, by Trace, summaries and counts.
func TestDuplicateWritesReadOnce(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	s := span(1, "svc", "op", time.Now().Add(-time.Minute), time.Millisecond, 0)
	child := span(1, "db", "query", time.Now().Add(-time.Minute), time.Millisecond, 0)
	child.SpanID, child.ParentSpanID = model.SpanID{7: 2}, s.SpanID
	for range 2 {
		if err := db.Write(ctx, []*model.Span{s, child}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := db.Trace(ctx, s.TraceID, storage.TimeRange{})
	if err != nil || len(tr.Spans) != 2 {
		t.Fatalf("Trace: %v, %v; want 2 spans", tr, err)
	}
	res, err := db.FindTraces(ctx, &storage.Query{})
	if err != nil || len(res) != 1 || res[0].SpanCount != 2 {
		t.Errorf("FindTraces: %+v, %v; want one trace of 2 spans", res, err)
	}
	deps, err := db.Dependencies(ctx, storage.TimeRange{})
	if err != nil || len(deps) != 1 || deps[0].CallCount != 1 {
		t.Errorf("Dependencies: %+v, %v; want svc -> db once", deps, err)
	}
}

// TestFindTracesFull: the traces come whole, with the same summaries
// FindTraces gives, in the same order.
func TestFindTracesFull(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	spans := storagetest.GenerateTraces(5, 15, 5, time.Now().Add(-time.Hour))
	if err := db.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	q := &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}}, Limit: 5}
	traces, sums, err := db.FindTracesFull(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := db.FindTraces(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(sums, want) || len(traces) != len(sums) {
		t.Fatalf("FindTracesFull: %d traces, summaries %+v; FindTraces %+v", len(traces), sums, want)
	}
	all := byTraceID(spans)
	for i, tr := range traces {
		if tr.ID != sums[i].TraceID {
			t.Errorf("trace %d is %s, summary says %s", i, tr.ID, sums[i].TraceID)
		}
		if d := storagetest.DiffSpans(all[tr.ID], tr.Spans); d != "" {
			t.Errorf("trace %s: %s", tr.ID, d)
		}
	}
}
