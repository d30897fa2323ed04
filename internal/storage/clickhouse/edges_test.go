package clickhouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// rollUpAll waits until every minute written so far has settled, rolls
// them up and checks that none is left to compute live (but those too old
// for the rollup to consider, see rollupFloor).
func rollUpAll(tb testing.TB, db *DB) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		time.Sleep(db.opts.EdgeRollupSettle)
		if _, err := db.rollupEdges(ctx); err != nil {
			tb.Fatalf("rollupEdges: %v", err)
		}
		now, err := db.serverNow(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		dirty, err := db.dirtyMinutes(ctx, db.rollupFloor(now), maxMinute)
		if err != nil {
			tb.Fatal(err)
		}
		if len(dirty) == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("minutes still not rolled up: %v", dirty)
		}
	}
}

// wantEdges computes EdgeStats from the spans with the reference rules
// (storage.EdgeStatsBuilder over whole traces).
func wantEdges(spans []*model.Span, q storage.StatsQuery) []storage.EdgeStats {
	b := storage.NewEdgeStatsBuilder(q)
	for _, tr := range byTraceID(spans) {
		b.AddTrace(tr)
	}
	return b.Result()
}

// diffEdges compares edge statistics: counts, sums and extremes exactly,
// quantiles within 2% (a duration on a sketch bucket's boundary may fall
// on either side of it in ClickHouse's floating point and Go's).
func diffEdges(got, want []storage.EdgeStats) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d edges, want %d: %v", len(got), len(want), edgeNames(got))
	}
	for i := range want {
		g, w := &got[i], &want[i]
		if g.Parent != w.Parent || g.Child != w.Child || len(g.Buckets) != len(w.Buckets) {
			return fmt.Sprintf("edge %d: %s -> %s with %d buckets, want %s -> %s with %d", i, g.Parent, g.Child, len(g.Buckets), w.Parent, w.Child, len(w.Buckets))
		}
		for j := range w.Buckets {
			gb, wb := &g.Buckets[j], &w.Buckets[j]
			gl, wl := &gb.Latency, &wb.Latency
			if gb.StartUnixNano != wb.StartUnixNano || gb.Calls != wb.Calls || gb.Errors != wb.Errors ||
				gl.Count() != wl.Count() || gl.Sum() != wl.Sum() || gl.Min() != wl.Min() || gl.Max() != wl.Max() {
				return fmt.Sprintf("%s -> %s bucket %d: start %d calls %d errors %d latency n=%d sum=%v [%v, %v]; want %d %d %d n=%d sum=%v [%v, %v]",
					w.Parent, w.Child, j, gb.StartUnixNano, gb.Calls, gb.Errors, gl.Count(), gl.Sum(), gl.Min(), gl.Max(),
					wb.StartUnixNano, wb.Calls, wb.Errors, wl.Count(), wl.Sum(), wl.Min(), wl.Max())
			}
			for _, q := range []float64{0.5, 0.9, 0.99} {
				if gq, wq := gl.Quantile(q), wl.Quantile(q); math.Abs(gq-wq) > 0.02*wq {
					return fmt.Sprintf("%s -> %s bucket %d: p%v %v, want %v", w.Parent, w.Child, j, q*100, gq, wq)
				}
			}
		}
	}
	return ""
}

func edgeNames(es []storage.EdgeStats) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Parent+"->"+e.Child)
	}
	return out
}

// edgeQueries are whole-minute queries over the minutes from base.
func edgeQueries(base time.Time, minutes int) []storage.StatsQuery {
	start := uint64(base.UnixNano())
	end := start + uint64(minutes)*nsPerMinute - 1
	return []storage.StatsQuery{
		{Range: storage.TimeRange{Start: start, End: end}},
		{Range: storage.TimeRange{Start: start, End: end}, Step: time.Minute},
		{Range: storage.TimeRange{Start: start, End: end}, Step: 5 * time.Minute},
		{Service: "checkout", Range: storage.TimeRange{Start: start, End: end}, Step: 2 * time.Minute},
		{Range: storage.TimeRange{Start: start + 3*nsPerMinute, End: start + 7*nsPerMinute - 1}, Step: time.Minute},
		{},
	}
}

// checkEdges compares EdgeStats of each query with the reference.
func checkEdges(t *testing.T, db *DB, spans []*model.Span, qs []storage.StatsQuery, when string) {
	t.Helper()
	for _, q := range qs {
		got, err := db.EdgeStats(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: EdgeStats(%+v): %v", when, q, err)
		}
		if d := diffEdges(got, wantEdges(spans, q)); d != "" {
			t.Errorf("%s: EdgeStats(%+v): %s", when, q, d)
		}
	}
}

// writeChunks writes spans in inserts of n.
func writeChunks(t testing.TB, db *DB, spans []*model.Span, n int) {
	t.Helper()
	for c := range slices.Chunk(spans, n) {
		if err := db.Write(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// edgeTestSpans returns traces in four bursts, three minutes apart, from
// base.
func edgeTestSpans(base time.Time) []*model.Span {
	var spans []*model.Span
	for i := range 4 {
		spans = append(spans, storagetest.GenerateTraces(int64(40+i), 300, 8, base.Add(time.Duration(3*i)*time.Minute))...)
	}
	return spans
}

// TestEdgeStatsRollup: EdgeStats computed live (right after the writes)
// and read from the rollups are the same, and the reference's; rolling a
// minute up again, or reading spans written twice, counts nothing twice;
// a parent that arrives after its child's minute was rolled up brings the
// edge back.
func TestEdgeStatsRollup(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{noLoops: true, EdgeRollupSettle: time.Second})
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	spans := edgeTestSpans(base)
	writeChunks(t, db, spans, 500)
	qs := edgeQueries(base, 12)

	if dirty, err := db.dirtyMinutes(ctx, 0, maxMinute); err != nil || len(dirty) == 0 {
		t.Fatalf("right after the writes: dirty minutes %v, %v; want the written ones", dirty, err)
	}
	checkEdges(t, db, spans, qs, "live")

	rollUpAll(t, db)
	var cells uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+db.schema.q(tableEdgeMinutes)).Scan(&cells); err != nil || cells == 0 {
		t.Fatalf("edge_minutes holds %d cells (%v) after the rollup", cells, err)
	}
	checkEdges(t, db, spans, qs, "rolled up")

	// The same total as Dependencies, which always joins.
	deps, err := db.Dependencies(ctx, storage.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	es, err := db.EdgeStats(ctx, storage.StatsQuery{})
	if err != nil || len(es) != len(deps) {
		t.Fatalf("EdgeStats: %d edges (%v), Dependencies %d", len(es), err, len(deps))
	}
	for i, d := range deps {
		if e := es[i]; e.Parent != d.Parent || e.Child != d.Child || e.Buckets[0].Calls != d.CallCount || e.Buckets[0].Errors != d.ErrorCount {
			t.Errorf("edge %d: EdgeStats %s -> %s %+v, Dependencies %+v", i, e.Parent, e.Child, e.Buckets[0], d)
		}
	}

	// Rolling the minutes up again, twice, replaces the cells.
	run := minuteRun{uint64(base.UnixNano()), uint64(base.Add(12 * time.Minute).UnixNano())}
	for range 2 {
		if err := db.rollupChunk(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	checkEdges(t, db, spans, qs, "rolled up three times")

	// A retried export: the spans are stored twice, their minutes are
	// dirty and computed live, then rolled up again; each counts once.
	writeChunks(t, db, spans[:800], 400)
	checkEdges(t, db, spans, qs, "after a retried export, live")
	rollUpAll(t, db)
	checkEdges(t, db, spans, qs, "after a retried export, rolled up")

	// A child whose parent arrives after the child's minute was rolled
	// up: the parent marks the minutes it covers, the child's among them.
	at := base.Add(20 * time.Minute)
	parent := span(200, "late-parent", "work", at, 5*time.Minute, 0)
	child := span(200, "late-child", "step", at.Add(2*time.Minute+time.Second), time.Second, model.StatusError)
	child.SpanID, child.ParentSpanID = model.SpanID{7: 201}, parent.SpanID
	writeChunks(t, db, []*model.Span{child}, 1)
	rollUpAll(t, db)
	late := storage.StatsQuery{Service: "late-child"}
	if got, err := db.EdgeStats(ctx, late); err != nil || len(got) != 0 {
		t.Fatalf("EdgeStats before the parent arrived: %+v, %v", got, err)
	}
	writeChunks(t, db, []*model.Span{parent}, 1)
	all := append(slices.Clone(spans), child, parent)
	checkEdges(t, db, all, []storage.StatsQuery{late}, "late parent, live")
	rollUpAll(t, db)
	checkEdges(t, db, all, []storage.StatsQuery{late, {}}, "late parent, rolled up")
}

// TestEdgeStatsConcurrentRollups: two nodes rolling up the same minutes
// at once, again and again, change nothing.
func TestEdgeStatsConcurrentRollups(t *testing.T) {
	dir := t.TempDir()
	opts := Options{noLoops: true, EdgeRollupSettle: time.Second}
	a, b := openTest(t, dir, opts), openTest(t, dir, opts)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	spans := edgeTestSpans(base)
	writeChunks(t, a, spans[:len(spans)/2], 300)
	writeChunks(t, b, spans[len(spans)/2:], 300)
	time.Sleep(opts.EdgeRollupSettle + time.Second)
	run := minuteRun{uint64(base.UnixNano()), uint64(base.Add(12 * time.Minute).UnixNano())}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, db := range []*DB{a, b, a, b} {
		wg.Go(func() {
			if _, err := db.rollupEdges(context.Background()); err != nil {
				errs <- err
			}
			if err := db.rollupChunk(context.Background(), run); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rollUpAll(t, a)
	qs := edgeQueries(base, 12)
	checkEdges(t, a, spans, qs, "node a")
	checkEdges(t, b, spans, qs, "node b")
}

func TestRunsOf(t *testing.T) {
	m := func(i uint64) uint64 { return i * nsPerMinute }
	got := runsOf([]uint64{m(1), m(2), m(3), m(5), m(9), m(10), m(20)}, 0)
	want := []minuteRun{{m(1), m(4)}, {m(5), m(6)}, {m(9), m(11)}, {m(20), m(21)}}
	if !slices.Equal(got, want) {
		t.Errorf("runsOf = %v, want %v", got, want)
	}
	// At most two runs: the smallest gaps close first.
	got = runsOf([]uint64{m(1), m(2), m(3), m(5), m(9), m(10), m(20)}, 2)
	want = []minuteRun{{m(1), m(11)}, {m(20), m(21)}}
	if !slices.Equal(got, want) {
		t.Errorf("runsOf(max 2) = %v, want %v", got, want)
	}
}
