package local

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// statsQueries are minute-aligned queries over the test data, which lies
// within the hour after testEpoch.
func statsQueries(svc, op string) []storage.StatsQuery {
	r := storage.TimeRange{Start: uint64(testEpoch.UnixNano()), End: uint64(testEpoch.Add(time.Hour).UnixNano())}
	return []storage.StatsQuery{
		{Range: r},
		{Range: r, Step: time.Minute},
		{Range: r, Step: 5 * time.Minute},
		{Service: svc, Range: r, Step: 2 * time.Minute},
		{Service: svc, Operation: op, Range: storage.TimeRange{Start: r.Start + uint64(3*time.Minute), End: r.Start + uint64(7*time.Minute) - 1}},
	}
}

// checkStats compares the DB's operation and edge statistics with the
// memstore's, which are
// computed from the spans: counts exactly, and quantiles exactly too, as
// merging sketches loses nothing.
func checkStats(t *testing.T, when string, db storage.StatsReader, ref storage.StatsReader, qs []storage.StatsQuery) {
	t.Helper()
	ctx := context.Background()
	for _, q := range qs {
		got, err := db.OperationStats(ctx, q)
		if err != nil {
			t.Fatalf("%s: OperationStats(%+v): %v", when, q, err)
		}
		want, err := ref.OperationStats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || (q.Service == "" && len(want) == 0) {
			t.Fatalf("%s: %+v: %d operations, want %d (> 0)", when, q, len(got), len(want))
		}
		for i := range want {
			g, w := &got[i], &want[i]
			if g.Service != w.Service || g.Operation != w.Operation || g.Kind != w.Kind || len(g.Buckets) != len(w.Buckets) {
				t.Fatalf("%s: %+v: operation %d = %s/%s/%v with %d buckets, want %s/%s/%v with %d",
					when, q, i, g.Service, g.Operation, g.Kind, len(g.Buckets), w.Service, w.Operation, w.Kind, len(w.Buckets))
			}
			sameBuckets(t, when+": "+w.Service+"/"+w.Operation, g.Buckets, w.Buckets)
		}
		gotE, err := db.EdgeStats(ctx, q)
		if err != nil {
			t.Fatalf("%s: EdgeStats(%+v): %v", when, q, err)
		}
		wantE, err := ref.EdgeStats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(gotE) != len(wantE) || (q.Service == "" && len(wantE) == 0) {
			t.Fatalf("%s: %+v: %d edges, want %d (> 0)", when, q, len(gotE), len(wantE))
		}
		for i := range wantE {
			g, w := &gotE[i], &wantE[i]
			if g.Parent != w.Parent || g.Child != w.Child || len(g.Buckets) != len(w.Buckets) {
				t.Fatalf("%s: %+v: edge %d = %s→%s with %d buckets, want %s→%s with %d",
					when, q, i, g.Parent, g.Child, len(g.Buckets), w.Parent, w.Child, len(w.Buckets))
			}
			sameBuckets(t, when+": "+w.Parent+"→"+w.Child, g.Buckets, w.Buckets)
		}
	}
}

// sameBuckets fails unless the buckets are equal, quantiles included.
func sameBuckets(t *testing.T, what string, got, want []storage.StatsBucket) {
	t.Helper()
	for j := range want {
		gb, wb := &got[j], &want[j]
		if gb.StartUnixNano != wb.StartUnixNano || gb.Calls != wb.Calls || gb.Errors != wb.Errors {
			t.Fatalf("%s bucket %d = %d/%d/%d, want %d/%d/%d", what, j,
				gb.StartUnixNano, gb.Calls, gb.Errors, wb.StartUnixNano, wb.Calls, wb.Errors)
		}
		for _, p := range []float64{0.5, 0.95, 0.99} {
			if a, b := gb.Latency.Quantile(p), wb.Latency.Quantile(p); a != b {
				t.Fatalf("%s bucket %d q%v = %v, want %v", what, j, p, a, b)
			}
		}
	}
}

// The statistics are the same from the head, from blocks, after
// compaction and after a restart (the block files), and after a crash
// (the WAL replayed into the head).
func TestOperationStatsLifecycle(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(testEpoch.Add(time.Minute))
	db := openManual(t, dir, testOptions(clock))
	ctx := context.Background()

	var all []*model.Span
	spans := gen(31, 60, 6, testEpoch.Add(time.Minute))
	qs := statsQueries(spans[0].Service(), spans[0].Name)
	for i := range 3 {
		part := shiftSpans(spans[i*20*6:(i+1)*20*6], time.Duration(i)*3*time.Minute)
		all = append(all, part...)
		mustWrite(t, db, part)
		checkStats(t, "head", db, reference(t, all), qs)
		mustFlush(t, db)
		checkStats(t, "blocks", db, reference(t, all), qs)
		clock.Advance(3 * time.Minute)
	}
	ref := reference(t, all)
	db.mu.RLock()
	for _, h := range db.blocks {
		for _, f := range []string{statsFile, edgesFile} {
			if _, err := h.b.ReadFile(f); err != nil {
				t.Errorf("block %s: %s file: %v", h.meta.ID, f, err)
			}
		}
	}
	db.mu.RUnlock()

	clock.Advance(20 * time.Minute)
	if err := db.compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(blockIDs(db)); n != 1 {
		t.Fatalf("%d blocks after compaction, want 1", n)
	}
	checkStats(t, "compacted", db, ref, qs)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openManual(t, dir, testOptions(clock))
	checkStats(t, "reopened", db, ref, qs)

	// Spans only in the WAL come back into the head's statistics.
	late := gen(32, 10, 4, testEpoch.Add(30*time.Minute))
	mustWrite(t, db, late)
	crash(t, db)
	db = openManual(t, dir, testOptions(clock))
	checkStats(t, "replayed", db, reference(t, all, late), statsQueries(late[0].Service(), late[0].Name))
}

// A block written without statistics files (by a version before them)
// stays readable: its statistics are computed from its spans.
func TestOperationStatsBlockWithoutFile(t *testing.T) {
	dir := t.TempDir()
	spans := gen(33, 30, 5, testEpoch.Add(2*time.Minute))
	blocks := filepath.Join(dir, blocksDirName)
	if err := os.MkdirAll(blocks, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := block.Write(blocks, spans, block.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(testEpoch.Add(10 * time.Minute))
	db := openManual(t, dir, testOptions(clock))
	db.mu.RLock()
	_, err := db.blocks[0].b.ReadFile(statsFile)
	_, err2 := db.blocks[0].b.ReadFile(edgesFile)
	db.mu.RUnlock()
	if !errors.Is(err, block.ErrNoFile) || !errors.Is(err2, block.ErrNoFile) {
		t.Fatalf("block has a stats or edges file (err %v, %v)", err, err2)
	}
	checkStats(t, "scanned", db, reference(t, spans), statsQueries(spans[0].Service(), spans[0].Name))
	// Twice: the second read uses the cached statistics.
	checkStats(t, "cached", db, reference(t, spans), statsQueries(spans[0].Service(), spans[0].Name))
}

func TestStatsFileRoundTrip(t *testing.T) {
	st := opStats{}
	for _, s := range gen(34, 20, 5, testEpoch) {
		st.add(s, s.Service())
	}
	b := st.marshal()
	got, err := unmarshalStats(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(st) {
		t.Fatalf("%d cells, want %d", len(got), len(st))
	}
	for k, c := range st {
		g := got[k]
		if g == nil || g.calls != c.calls || g.errors != c.errors || g.latency.Count() != c.latency.Count() || g.latency.Quantile(0.9) != c.latency.Quantile(0.9) {
			t.Fatalf("cell %+v differs", k)
		}
	}
	for _, bad := range [][]byte{nil, []byte("CLWS"), append([]byte("CLWS\x02"), b[5:]...), b[:len(b)-1], append(slices.Clone(b), 0)} {
		if _, err := unmarshalStats(bad); err == nil {
			t.Errorf("unmarshalStats(%d bytes) accepted a malformed file", len(bad))
		}
	}
}

func TestEdgesFileRoundTrip(t *testing.T) {
	st := edgeStats{}
	spans := gen(37, 20, 6, testEpoch)
	traces := slices.Collect(maps.Values(byTrace(spans)))
	for _, tr := range traces {
		st.addTrace(tr, storage.TimeRange{})
	}
	if len(st) == 0 {
		t.Fatal("generated traces have no service edges")
	}
	b := st.marshal()
	got, err := unmarshalEdges(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(st) {
		t.Fatalf("%d cells, want %d", len(got), len(st))
	}
	for k, c := range st {
		g := got[k]
		if g == nil || g.calls != c.calls || g.errors != c.errors || g.latency.Count() != c.latency.Count() || g.latency.Quantile(0.9) != c.latency.Quantile(0.9) {
			t.Fatalf("cell %+v differs", k)
		}
	}
	for _, bad := range [][]byte{nil, []byte("CLWE"), append([]byte("CLWE\x02"), b[5:]...), b[:len(b)-1], append(slices.Clone(b), 0)} {
		if _, err := unmarshalEdges(bad); err == nil {
			t.Errorf("unmarshalEdges(%d bytes) accepted a malformed file", len(bad))
		}
	}
	// Taking a trace back leaves what the others counted.
	st.removeTrace(traces[0], storage.TimeRange{})
	want := edgeStats{}
	for _, x := range traces[1:] {
		want.addTrace(x, storage.TimeRange{})
	}
	for k, c := range want {
		if g := st[k]; g == nil || g.calls != c.calls || g.errors != c.errors {
			t.Fatalf("after removeTrace: cell %+v = %+v, want %+v", k, g, c)
		}
	}
	if len(st) != len(want) {
		t.Fatalf("after removeTrace: %d cells, want %d", len(st), len(want))
	}
}

// A block whose statistics or edges file fails its checksum is
// quarantined like any corrupt block, and the query goes on with the rest.
func TestOperationStatsCorruptFileQuarantined(t *testing.T) {
	for _, file := range []string{statsFile, edgesFile} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			clock := newFakeClock(testEpoch.Add(10 * time.Minute))
			db := openManual(t, dir, testOptions(clock))
			bad := gen(35, 10, 4, testEpoch.Add(time.Minute))
			mustWrite(t, db, bad)
			mustFlush(t, db)
			badID := blockIDs(db)[0]
			good := gen(36, 10, 4, testEpoch.Add(5*time.Minute))
			mustWrite(t, db, good)
			flipByte(t, filepath.Join(db.blocksDir, badID, file))
			// The first read of the corrupt file quarantines the block.
			q := storage.StatsQuery{}
			if _, err := db.OperationStats(context.Background(), q); err != nil {
				t.Fatal(err)
			}
			if _, err := db.EdgeStats(context.Background(), q); err != nil {
				t.Fatal(err)
			}

			checkStats(t, "corrupt", db, reference(t, good), statsQueries(good[0].Service(), good[0].Name))
			if ids := blockIDs(db); slices.Contains(ids, badID) {
				t.Errorf("block %s still served: %v", badID, ids)
			}
		})
	}
}

// FuzzStatsFiles feeds arbitrary bytes to both statistics file decoders:
// they must fail cleanly, and what they accept must encode into a file
// that decodes to as many cells.
func FuzzStatsFiles(f *testing.F) {
	st, ed := opStats{}, edgeStats{}
	spans := gen(38, 5, 4, testEpoch)
	for _, s := range spans {
		st.add(s, s.Service())
	}
	for _, tr := range byTrace(spans) {
		ed.addTrace(tr, storage.TimeRange{})
	}
	f.Add(st.marshal())
	f.Add(ed.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := unmarshalStats(b); err == nil {
			again, err := unmarshalStats(m.marshal())
			if err != nil || len(again) != len(m) {
				t.Fatalf("re-encoded stats file: %d cells, %v; want %d", len(again), err, len(m))
			}
		}
		if m, err := unmarshalEdges(b); err == nil {
			again, err := unmarshalEdges(m.marshal())
			if err != nil || len(again) != len(m) {
				t.Fatalf("re-encoded edges file: %d cells, %v; want %d", len(again), err, len(m))
			}
		}
	})
}
