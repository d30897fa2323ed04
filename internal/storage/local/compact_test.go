package local

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

func TestCompactionRanges(t *testing.T) {
	f := func(max time.Duration, want ...time.Duration) {
		t.Helper()
		if got := compactionRanges(max); !slices.Equal(got, want) {
			t.Errorf("compactionRanges(%v) = %v, want %v", max, got, want)
		}
	}
	f(5*time.Minute, 5*time.Minute)
	f(15*time.Minute, 15*time.Minute)
	f(2*time.Hour, 15*time.Minute, time.Hour)
	f(DefaultRetention/10, 15*time.Minute, time.Hour, 4*time.Hour, 16*time.Hour)
}

func TestCompactorPlan(t *testing.T) {
	c := NewCompactor(t.TempDir(), Options{CompactionMaxBlockSpans: 100, HeadMaxAge: time.Minute})
	at := func(d time.Duration) uint64 { return uint64(testEpoch.Add(d).UnixNano()) }
	meta := func(id string, minT, maxT time.Duration, spans int) block.Meta {
		return block.Meta{ID: id, MinTime: at(minT), MaxTime: at(maxT), SpanCount: spans}
	}
	ids := func(plans [][]block.Meta) [][]string {
		var out [][]string
		for _, g := range plans {
			var ids []string
			for _, m := range g {
				ids = append(ids, m.ID)
			}
			out = append(out, ids)
		}
		return out
	}
	f := func(now time.Duration, metas []block.Meta, want ...[]string) {
		t.Helper()
		got := ids(c.Plan(metas, testEpoch.Add(now)))
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("Plan at %v = %v, want %v", now, got, want)
		}
	}
	two := []block.Meta{meta("a", 1*time.Minute, 3*time.Minute, 10), meta("b", 2*time.Minute, 6*time.Minute, 10)}
	// The window [0, 15m) is complete only after its end plus the grace
	// of two HeadMaxAge.
	f(16*time.Minute, two)
	f(17*time.Minute, two, []string{"a", "b"})
	// Blocks of different windows are not merged at the first level...
	split := []block.Meta{meta("a", 1*time.Minute, 14*time.Minute, 10), meta("b", 14*time.Minute, 16*time.Minute, 10)}
	f(20*time.Minute, split)
	// ...but at the next, once that window is complete.
	f(62*time.Minute, split, []string{"a", "b"})
	// A single block is left alone.
	f(time.Hour*24, two[:1])
	// The size bound splits a window into runs.
	sized := []block.Meta{
		meta("a", 1*time.Minute, 2*time.Minute, 60),
		meta("b", 2*time.Minute, 3*time.Minute, 30),
		meta("c", 3*time.Minute, 4*time.Minute, 30),
		meta("d", 4*time.Minute, 5*time.Minute, 30),
		meta("e", 5*time.Minute, 6*time.Minute, 200),
	}
	f(20*time.Minute, sized, []string{"a", "b"}, []string{"c", "d"})
}

// TestCompactionMergesTraceMinutesApart writes a trace in three parts,
// minutes apart, each cut into its own block; compaction leaves one block
// that holds the whole trace.
func TestCompactionMergesTraceMinutesApart(t *testing.T) {
	clock := newFakeClock(testEpoch.Add(time.Minute))
	db := openManual(t, t.TempDir(), testOptions(clock))
	ctx := context.Background()

	spans := gen(20, 6, 9, testEpoch.Add(time.Minute))
	target := spans[0].TraceID
	var parts [3][]*model.Span
	for i, s := range spans {
		parts[i%3] = append(parts[i%3], s)
	}
	for i, p := range parts {
		// Move each part i*3 minutes later, as if it arrived then.
		shifted := shiftSpans(p, time.Duration(i)*3*time.Minute)
		parts[i] = shifted
		mustWrite(t, db, shifted)
		mustFlush(t, db)
		clock.Advance(3 * time.Minute)
	}
	all := slices.Concat(parts[0], parts[1], parts[2])
	sources := blockIDs(db)
	if len(sources) != 3 {
		t.Fatalf("%d blocks before compaction, want 3", len(sources))
	}
	// Nothing to do until the window is complete.
	if err := db.compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(blockIDs(db)); n != 3 {
		t.Fatalf("compaction ran on an incomplete window: %d blocks", n)
	}
	clock.Advance(20 * time.Minute)
	if err := db.compact(ctx); err != nil {
		t.Fatal(err)
	}
	ids := blockIDs(db)
	if len(ids) != 1 {
		t.Fatalf("%d blocks after compaction, want 1", len(ids))
	}
	db.mu.RLock()
	h := db.blocks[0]
	db.mu.RUnlock()
	if h.meta.Level != 1 || !slices.Equal(slices.Sorted(slices.Values(h.meta.Sources)), sources) {
		t.Fatalf("compacted meta: level %d sources %v, want 1 and %v", h.meta.Level, h.meta.Sources, sources)
	}
	// The trace is whole in the one block, not just across parts.
	inBlock, err := h.b.Trace(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if want := byTrace(all)[target]; len(inBlock) != len(want) {
		t.Fatalf("block holds %d spans of the trace, want %d", len(inBlock), len(want))
	}
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))
	// The sources are gone from disk.
	for _, id := range sources {
		if _, err := os.Stat(filepath.Join(db.blocksDir, id)); !os.IsNotExist(err) {
			t.Errorf("source %s still on disk: %v", id, err)
		}
	}
	if got := testCounter(t, db.metrics.compactions); got != 1 {
		t.Errorf("compactions_total = %v, want 1", got)
	}
}

// shiftSpans returns copies of spans moved by d.
func shiftSpans(spans []*model.Span, d time.Duration) []*model.Span {
	out := make([]*model.Span, len(spans))
	for i, s := range spans {
		c := *s
		c.StartUnixNano += uint64(d)
		c.EndUnixNano += uint64(d)
		c.Events = slices.Clone(s.Events)
		for j := range c.Events {
			c.Events[j].TimeUnixNano += uint64(d)
		}
		out[i] = &c
	}
	return out
}

// TestCompactionCrashBeforeSourcesDeleted simulates a crash after a
// compacted block was finished but before its sources were deleted: Open
// deletes the sources and serves each span once.
func TestCompactionCrashBeforeSourcesDeleted(t *testing.T) {
	clock := newFakeClock(testEpoch)
	dir := t.TempDir()
	db := openManual(t, dir, testOptions(clock))
	a := gen(21, 10, 5, testEpoch.Add(-10*time.Minute))
	b := gen(22, 10, 5, testEpoch.Add(-9*time.Minute))
	mustWrite(t, db, a)
	mustFlush(t, db)
	mustWrite(t, db, b)
	mustFlush(t, db)
	sources := blockIDs(db)
	db.mu.RLock()
	blocks := []*block.Block{db.blocks[0].b, db.blocks[1].b}
	db.mu.RUnlock()
	meta, err := db.compactor.Write(context.Background(), blocks)
	if err != nil {
		t.Fatal(err)
	}
	crash(t, db)

	db = openManual(t, dir, testOptions(clock))
	if got := blockIDs(db); !slices.Equal(got, []string{meta.ID}) {
		t.Fatalf("blocks after reopen = %v, want only %s (sources %v deleted)", got, meta.ID, sources)
	}
	for _, id := range sources {
		if _, err := os.Stat(filepath.Join(dir, blocksDirName, id)); !os.IsNotExist(err) {
			t.Errorf("source %s still on disk: %v", id, err)
		}
	}
	all := slices.Concat(a, b)
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))
}

func TestOpenRemovesLeftovers(t *testing.T) {
	clock := newFakeClock(testEpoch)
	dir := t.TempDir()
	db := openManual(t, dir, testOptions(clock))
	spans := gen(23, 5, 3, testEpoch.Add(-time.Minute))
	mustWrite(t, db, spans)
	mustFlush(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0123" + block.TmpSuffix, "0456" + deletionSuffix} {
		p := filepath.Join(dir, blocksDirName, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "data"), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db = openManual(t, dir, testOptions(clock))
	entries, err := os.ReadDir(filepath.Join(dir, blocksDirName))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("blocks dir holds %d entries after Open, want the one block", len(entries))
	}
	if err := db.Health(); err != nil {
		t.Fatalf("Health after removing leftovers: %v", err)
	}
	checkTraces(t, db, spans)
}

// TestQueriesDuringCompaction checks that a block removed by compaction is
// closed only after the query that holds it is done.
func TestQueriesDuringCompaction(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	a := gen(24, 5, 4, testEpoch.Add(-30*time.Minute))
	b := gen(25, 5, 4, testEpoch.Add(-29*time.Minute))
	mustWrite(t, db, a)
	mustFlush(t, db)
	mustWrite(t, db, b)
	mustFlush(t, db)
	s, err := db.begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(blockIDs(db)); n != 1 {
		t.Fatalf("%d blocks after compaction, want 1", n)
	}
	// The old snapshot still reads its (removed) blocks.
	spans, err := db.traceSpans(context.Background(), s, a[0].TraceID, storage.TimeRange{})
	if err != nil || len(spans) != len(byTrace(a)[a[0].TraceID]) {
		t.Fatalf("read from a snapshot taken before compaction: %d spans, %v", len(spans), err)
	}
	db.end(s)
	checkTraces(t, db, slices.Concat(a, b))
}
