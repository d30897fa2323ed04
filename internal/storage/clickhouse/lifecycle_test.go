package clickhouse

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
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

func TestRetentionDropsDayPartitions(t *testing.T) {
	now := time.Now()
	db := openTest(t, t.TempDir(), Options{Retention: 48 * time.Hour, now: func() time.Time { return now }})
	ctx := context.Background()
	spans := []*model.Span{
		span(1, "old5", "op", now.Add(-5*24*time.Hour), time.Millisecond, 0),
		span(2, "old3", "op", now.Add(-3*24*time.Hour), time.Millisecond, 0),
		span(3, "new", "op", now.Add(-time.Hour), time.Millisecond, 0),
	}
	if err := db.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	partitions := func() int {
		t.Helper()
		var n uint64
		if err := db.conn.QueryRow(ctx, "SELECT uniqExact(table, partition) FROM system.parts WHERE active AND database = ?", db.Database()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	// 3 days × spans, trace_spans, trace_index, operation_stats (and the
	// migrations table's single partition).
	if n := partitions(); n != 13 {
		t.Errorf("before retention: %d partitions, want 13", n)
	}
	n, err := db.DropExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("DropExpired dropped %d partitions, want 8 (2 days × 4 tables)", n)
	}
	if n := partitions(); n != 5 {
		t.Errorf("after retention: %d partitions, want 5", n)
	}
	for _, s := range spans[:2] {
		if _, err := db.Trace(ctx, s.TraceID, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Trace(%s) of an expired day: err %v, want ErrNotFound", s.TraceID, err)
		}
	}
	if _, err := db.Trace(ctx, spans[2].TraceID, storage.TimeRange{}); err != nil {
		t.Errorf("Trace of a kept day: %v", err)
	}
	if svcs, err := db.Services(ctx); err != nil || !slices.Equal(svcs, []string{"new"}) {
		t.Errorf("Services after retention: %v, %v; want [new]", svcs, err)
	}
	if res, err := db.FindTraces(ctx, &storage.Query{}); err != nil || len(res) != 1 {
		t.Errorf("FindTraces after retention: %d traces, %v; want 1", len(res), err)
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

	// Open migrates to the newest version; opening again changes nothing.
	for range 2 {
		db := openTest(t, dir, Options{})
		if err := db.Write(ctx, []*model.Span{span(1, "svc", "op", time.Now().Add(-time.Minute), time.Millisecond, 0)}); err != nil {
			t.Fatal(err)
		}
		if svcs, err := db.Services(ctx); err != nil || !slices.Equal(svcs, []string{"svc"}) {
			t.Errorf("Services after migration: %v, %v", svcs, err)
		}
		db.Close()
		if v := versions(); !slices.Equal(v, []uint32{1, 2}) {
			t.Errorf("after Open: versions %v, want [1 2]", v)
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

func TestOperationStats(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	spans := []*model.Span{
		span(1, "shop", "checkout", at, time.Millisecond, 0),
		span(2, "shop", "checkout", at.Add(time.Second), 2*time.Millisecond, model.StatusError),
		span(3, "shop", "checkout", at.Add(2*time.Minute), 3*time.Millisecond, 0),
		span(4, "cart", "get", at, 10*time.Millisecond, 0),
	}
	// Two inserts, so that the aggregates of one minute merge.
	if err := db.Write(ctx, spans[:2]); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, spans[2:]); err != nil {
		t.Fatal(err)
	}
	got, err := db.OperationStats(ctx, StatsQuery{Service: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("OperationStats(shop): %+v", got)
	}
	g := got[0]
	if g.Name != "checkout" || g.Kind != model.KindServer || g.Calls != 3 || g.Errors != 1 || g.DurationSum != uint64(6*time.Millisecond) ||
		g.P50 != float64(2*time.Millisecond) || g.FirstMinute != uint64(at.UnixNano()) || g.LastMinute != uint64(at.Add(2*time.Minute).UnixNano()) {
		t.Errorf("OperationStats(shop) = %+v", g)
	}
	// A range holding only the first minute.
	got, err = db.OperationStats(ctx, StatsQuery{Range: storage.TimeRange{Start: uint64(at.Add(30 * time.Second).UnixNano()), End: uint64(at.Add(time.Minute).UnixNano())}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Service != "cart" || got[1].Calls != 2 {
		t.Errorf("OperationStats(first minute) = %+v", got)
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
