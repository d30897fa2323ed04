package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// checkQueries compares the DB's answers to memstore's for the same data.
func checkQueries(t *testing.T, db *DB, ref *memstore.Store) {
	t.Helper()
	ctx := context.Background()
	queries := []*storage.Query{
		{},
		{Limit: 7},
		{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: 1000},
		{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}}, Limit: 1000},
		{Conditions: []storage.Condition{
			{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("checkout")},
			{Field: storage.FieldDuration, Op: storage.OpGreater, Value: model.IntValue(int64(time.Millisecond))},
		}, Limit: 1000},
		{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Key: "http.status_code", Op: storage.OpExists}}, Limit: 1000},
	}
	for _, q := range queries {
		want, err := ref.FindTraces(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTraces(ctx, q)
		if err != nil {
			t.Fatalf("FindTraces: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("FindTraces(%+v): %d traces, want %d", q.Conditions, len(got), len(want))
		}
		for i := range want {
			if got[i].TraceID != want[i].TraceID || got[i].SpanCount != want[i].SpanCount || got[i].StartUnixNano != want[i].StartUnixNano {
				t.Fatalf("FindTraces(%+v)[%d] = %+v, want %+v", q.Conditions, i, got[i], want[i])
			}
		}
		traces, sums, err := db.FindTracesFull(ctx, q)
		if err != nil {
			t.Fatalf("FindTracesFull: %v", err)
		}
		if !reflect.DeepEqual(sums, got) || len(traces) != len(sums) {
			t.Fatalf("FindTracesFull(%+v): %d traces and summaries %v, want FindTraces' %v", q.Conditions, len(traces), sums, got)
		}
		for i, tr := range traces {
			wt, err := ref.Trace(ctx, sums[i].TraceID, storage.TimeRange{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.ID != sums[i].TraceID {
				t.Fatalf("FindTracesFull(%+v): trace %d is %s, summary %s", q.Conditions, i, tr.ID, sums[i].TraceID)
			}
			if d := storagetest.DiffSpans(wt.Spans, tr.Spans); d != "" {
				t.Fatalf("FindTracesFull(%+v): trace %s differs:\n%s", q.Conditions, tr.ID, d)
			}
		}
	}
	wantSvcs, _ := ref.Services(ctx)
	gotSvcs, err := db.Services(ctx)
	if err != nil || !slices.Equal(gotSvcs, wantSvcs) {
		t.Fatalf("Services = %v, %v; want %v", gotSvcs, err, wantSvcs)
	}
	for _, oq := range []storage.OperationQuery{{}, {Service: "frontend"}, {Kind: model.KindClient, HasKind: true}} {
		want, _ := ref.Operations(ctx, oq)
		got, err := db.Operations(ctx, oq)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Operations(%+v) = %v, %v; want %v", oq, got, err, want)
		}
	}
	for _, scope := range []storage.AttrScope{storage.ScopeAny, storage.ScopeSpan, storage.ScopeResource} {
		want, _ := ref.AttributeNames(ctx, storage.AttributeQuery{Scope: scope})
		got, err := db.AttributeNames(ctx, storage.AttributeQuery{Scope: scope})
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("AttributeNames(%v) = %v, %v; want %v", scope, got, err, want)
		}
	}
	aq := storage.AttributeQuery{Scope: storage.ScopeSpan, Name: "http.method"}
	wantVals, _ := ref.AttributeValues(ctx, aq)
	gotVals, err := db.AttributeValues(ctx, aq)
	if err != nil || !sameValues(gotVals, wantVals) {
		t.Fatalf("AttributeValues = %v, %v; want %v", gotVals, err, wantVals)
	}
	wantDeps, _ := ref.Dependencies(ctx, storage.TimeRange{})
	gotDeps, err := db.Dependencies(ctx, storage.TimeRange{})
	if err != nil || !slices.Equal(gotDeps, wantDeps) {
		t.Fatalf("Dependencies = %v, %v; want %v", gotDeps, err, wantDeps)
	}
}

// sameValues compares value sets regardless of order.
func sameValues(a, b []model.Value) bool {
	key := func(vs []model.Value) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.AsString()
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func TestWriteReadFromHead(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	spans := gen(1, 30, 8, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, spans)
	if n := db.headStats().spans; n != int64(len(spans)) {
		t.Fatalf("head holds %d spans, want %d", n, len(spans))
	}
	checkTraces(t, db, spans)
	checkQueries(t, db, reference(t, spans))
	if _, err := db.Trace(context.Background(), model.TraceID{0xee}, storage.TimeRange{}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("absent trace: err %v, want ErrNotFound", err)
	}
}

func TestWriteReadAfterFlush(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	spans := gen(2, 30, 8, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, spans)
	mustFlush(t, db)
	if n := db.headStats().spans; n != 0 {
		t.Fatalf("head holds %d spans after Flush", n)
	}
	if n := len(blockIDs(db)); n != 1 {
		t.Fatalf("%d blocks after Flush, want 1", n)
	}
	checkTraces(t, db, spans)
	checkQueries(t, db, reference(t, spans))
	// The WAL was truncated up to the cut.
	if size := db.wal.Size(); size > 64 {
		t.Errorf("wal holds %d bytes after Flush", size)
	}
	// An empty head cuts nothing.
	mustFlush(t, db)
	if n := len(blockIDs(db)); n != 1 {
		t.Fatalf("%d blocks after an empty Flush, want 1", n)
	}
}

func TestReadsMergeHeadAndBlocks(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	old := gen(3, 20, 6, testEpoch.Add(-30*time.Minute))
	mid := gen(4, 20, 6, testEpoch.Add(-20*time.Minute))
	recent := gen(5, 20, 6, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, old)
	mustFlush(t, db)
	mustWrite(t, db, mid)
	mustFlush(t, db)
	mustWrite(t, db, recent)
	all := slices.Concat(old, mid, recent)
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))

	// Newest first with a limit that ends in the middle block.
	got, err := db.FindTraces(context.Background(), &storage.Query{Limit: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 {
		t.Fatalf("%d traces, want 25", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].StartUnixNano > got[i-1].StartUnixNano {
			t.Fatalf("result %d starts after result %d", i, i-1)
		}
	}
	recentIDs := byTrace(recent)
	for _, s := range got[:20] {
		if _, ok := recentIDs[s.TraceID]; !ok {
			t.Fatalf("trace %s among the 20 newest is not from the head", s.TraceID)
		}
	}
}

func TestTraceSplitAcrossHeadAndBlock(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	spans := gen(6, 5, 10, testEpoch.Add(-10*time.Minute))
	var first, second []*model.Span
	for i, s := range spans {
		if i%2 == 0 {
			first = append(first, s)
		} else {
			second = append(second, s)
		}
	}
	mustWrite(t, db, first)
	mustFlush(t, db)
	mustWrite(t, db, second)
	checkTraces(t, db, spans)
	// A retried export of spans already in a block adds nothing.
	mustWrite(t, db, first[:10])
	checkTraces(t, db, spans)
	sums, err := db.FindTraces(context.Background(), &storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if s.SpanCount != 10 {
			t.Fatalf("trace %s: SpanCount %d, want 10", s.TraceID, s.SpanCount)
		}
	}
}

func TestHintSkipsBlocks(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	spans := gen(7, 3, 4, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, spans)
	mustFlush(t, db)
	id := spans[0].TraceID
	far := storage.TimeRange{Start: 1, End: 2}
	if _, err := db.Trace(context.Background(), id, far); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("hint far from the block: err %v, want ErrNotFound (block skipped)", err)
	}
	near := storage.TimeRange{Start: spans[0].StartUnixNano, End: spans[0].EndUnixNano}
	if _, err := db.Trace(context.Background(), id, near); err != nil {
		t.Fatalf("hint on the trace: %v", err)
	}
}

func TestRestart(t *testing.T) {
	clock := newFakeClock(testEpoch)
	dir := t.TempDir()
	db := openManual(t, dir, testOptions(clock))
	inBlock := gen(8, 20, 6, testEpoch.Add(-20*time.Minute))
	inWAL := gen(9, 20, 6, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, inBlock)
	mustFlush(t, db)
	mustWrite(t, db, inWAL)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(context.Background(), inWAL); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}

	db = openManual(t, dir, testOptions(clock))
	if n := db.headStats().spans; n != int64(len(inWAL)) {
		t.Fatalf("replayed head holds %d spans, want %d", n, len(inWAL))
	}
	all := slices.Concat(inBlock, inWAL)
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))
}

func TestCrashRecovery(t *testing.T) {
	clock := newFakeClock(testEpoch)
	dir := t.TempDir()
	db := openManual(t, dir, testOptions(clock))
	inBlock := gen(10, 20, 6, testEpoch.Add(-20*time.Minute))
	inWAL := gen(11, 20, 6, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, inBlock)
	mustFlush(t, db)
	for i := 0; i < len(inWAL); i += 7 {
		mustWrite(t, db, inWAL[i:min(i+7, len(inWAL))])
	}
	crash(t, db)

	db = openManual(t, dir, testOptions(clock))
	all := slices.Concat(inBlock, inWAL)
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))
}

// TestCrashBetweenBlockAndTruncate replays a WAL whose spans are also in a
// block, as after a crash between writing the block and truncating the
// WAL: nothing is duplicated in results, and compaction removes the copy.
func TestCrashBetweenBlockAndTruncate(t *testing.T) {
	clock := newFakeClock(testEpoch)
	dir := t.TempDir()
	spans := gen(12, 20, 6, testEpoch.Add(-10*time.Minute))

	db := openManual(t, dir, testOptions(clock))
	mustWrite(t, db, spans)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "wal")
	if err := os.CopyFS(saved, os.DirFS(filepath.Join(dir, walDirName))); err != nil {
		t.Fatal(err)
	}
	db = openManual(t, dir, testOptions(clock))
	mustFlush(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, walDirName)); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, walDirName), os.DirFS(saved)); err != nil {
		t.Fatal(err)
	}

	db = openManual(t, dir, testOptions(clock))
	if n := db.headStats().spans; n != int64(len(spans)) {
		t.Fatalf("replayed %d spans, want %d", n, len(spans))
	}
	checkTraces(t, db, spans)
	checkQueries(t, db, reference(t, spans))

	// Cut the replayed copy into a second block and compact: one copy left.
	mustFlush(t, db)
	clock.Advance(time.Hour)
	if err := db.compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.mu.RLock()
	metas := []int{}
	for _, h := range db.blocks {
		metas = append(metas, h.meta.SpanCount)
	}
	db.mu.RUnlock()
	if !slices.Equal(metas, []int{len(spans)}) {
		t.Fatalf("blocks after compaction hold %v spans, want [%d]", metas, len(spans))
	}
	checkTraces(t, db, spans)
}

func TestOverloaded(t *testing.T) {
	clock := newFakeClock(testEpoch)
	opts := testOptions(clock)
	opts.HeadMaxBytes = 1
	db := openManual(t, t.TempDir(), opts)
	spans := gen(13, 4, 5, testEpoch.Add(-time.Minute))
	mustWrite(t, db, spans[:10])
	// The head is over its bound and a cut is pending: refuse.
	if err := db.Write(context.Background(), spans[10:]); !errors.Is(err, storage.ErrOverloaded) {
		t.Fatalf("Write on a full head: %v, want ErrOverloaded", err)
	}
	if err := db.cutIfDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, spans[10:])
	checkTraces(t, db, spans)
}

func TestBackgroundCutByAge(t *testing.T) {
	clock := newFakeClock(testEpoch)
	opts := testOptions(clock)
	opts.HeadMaxAge = 40 * time.Millisecond // checked every 10ms
	db := openDB(t, t.TempDir(), opts)
	spans := gen(14, 3, 3, testEpoch.Add(-time.Minute))
	mustWrite(t, db, spans)
	clock.Advance(time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for len(blockIDs(db)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("head was not cut after HeadMaxAge")
		}
		time.Sleep(5 * time.Millisecond)
	}
	checkTraces(t, db, spans)
}

func TestBackgroundCutBySpans(t *testing.T) {
	clock := newFakeClock(testEpoch)
	opts := testOptions(clock)
	opts.HeadMaxSpans = 10
	db := openDB(t, t.TempDir(), opts)
	spans := gen(15, 4, 5, testEpoch.Add(-time.Minute))
	mustWrite(t, db, spans)
	deadline := time.Now().Add(10 * time.Second)
	for len(blockIDs(db)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("head was not cut after HeadMaxSpans")
		}
		time.Sleep(5 * time.Millisecond)
	}
	checkTraces(t, db, spans)
}

func TestWriteRejectsBadSpans(t *testing.T) {
	db := openManual(t, t.TempDir(), testOptions(newFakeClock(testEpoch)))
	if err := db.Write(context.Background(), []*model.Span{nil}); err == nil {
		t.Error("nil span accepted")
	}
	v := model.StringValue("x")
	for range maxValueDepth + 1 {
		v = model.Value{Type: model.TypeArray, Array: []model.Value{v}}
	}
	deep := &model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, StartUnixNano: 1, EndUnixNano: 2,
		Attributes: []model.KeyValue{{Key: "deep", Value: v}}}
	if err := db.Write(context.Background(), []*model.Span{deep}); err == nil {
		t.Error("deeply nested value accepted")
	}
	if n := db.headStats().spans; n != 0 {
		t.Errorf("head holds %d spans after rejected writes", n)
	}
	// The deepest accepted value survives the WAL and a block.
	v = model.StringValue("x")
	for range maxValueDepth - 1 {
		v = model.Value{Type: model.TypeArray, Array: []model.Value{v}}
	}
	deepest := &model.Span{TraceID: model.TraceID{2}, SpanID: model.SpanID{1}, StartUnixNano: 1, EndUnixNano: 2,
		Attributes: []model.KeyValue{{Key: "deep", Value: v}}}
	mustWrite(t, db, []*model.Span{deepest})
	mustFlush(t, db)
	checkTraces(t, db, []*model.Span{deepest})
}

func TestOptions(t *testing.T) {
	var o Options
	if err := o.Validate(); err != nil {
		t.Fatalf("zero options invalid: %v", err)
	}
	o.EnsureDefaults()
	if o.Retention != DefaultRetention || o.HeadMaxSpans != DefaultHeadMaxSpans || o.Now == nil || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
	if o.CompactionMaxBlockDuration != DefaultRetention/10 {
		t.Errorf("CompactionMaxBlockDuration = %v, want a tenth of the retention", o.CompactionMaxBlockDuration)
	}
	bad := Options{MaxDiskBytes: -1, HeadMaxSpans: -1, WALFsync: 7}
	if err := bad.Validate(); err == nil {
		t.Fatal("invalid options accepted")
	}
	if _, err := Open(t.TempDir(), bad); err == nil {
		t.Fatal("Open accepted invalid options")
	}
	forever := Options{Retention: -1, Logger: testOptions(newFakeClock(testEpoch)).Logger}
	db := openManual(t, t.TempDir(), forever)
	if db.Retention() != 0 {
		t.Errorf("Retention() = %v for keep-forever, want 0", db.Retention())
	}
	db2 := openManual(t, t.TempDir(), Options{Logger: forever.Logger})
	if db2.Retention() != DefaultRetention {
		t.Errorf("Retention() = %v, want the default", db2.Retention())
	}
}

func TestClosedCalls(t *testing.T) {
	db := openManual(t, t.TempDir(), testOptions(newFakeClock(testEpoch)))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.Trace(ctx, model.TraceID{1}, storage.TimeRange{}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Trace: %v", err)
	}
	if _, err := db.FindTraces(ctx, &storage.Query{}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("FindTraces: %v", err)
	}
	if _, err := db.Services(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Services: %v", err)
	}
	if err := db.Flush(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Flush: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t testing.TB, dir string) storage.Backend {
		db, err := Open(dir, Options{Logger: testOptions(newFakeClock(testEpoch)).Logger})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}, storagetest.Options{SkipSlow: testing.Short()})
}
