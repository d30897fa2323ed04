package block

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Benchmarks use realistic spans (genRealistic: 8 services with 3
// instances each, 6 operations per service, about 10 spans per trace with
// random 16-byte trace IDs and 8-byte span IDs, 10 attributes per span,
// nanosecond timestamps, 10% errors with an exception event).
//
//	go test -run XXX -bench . -benchtime 1x ./internal/storage/local/block/
//
// BLOCK_BENCH_SPANS sets the size of the large block used by the read
// benchmarks (default 1000000).

const benchBase = 1_700_000_000_000_000_000

// cpuClock measures the process's CPU time (user+system) across a
// benchmark loop. On a shared 2-core machine wall-clock ns/op varies with
// the neighbours' load; CPU time per op varies much less, so the
// benchmarks report both.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds a cpu-ns/op metric (and cpu-ns/span when spans > 0).
func (c cpuClock) report(b *testing.B, spansPerOp int) {
	d := float64(processCPU() - c.start)
	b.ReportMetric(d/float64(b.N), "cpu-ns/op")
	if spansPerOp > 0 {
		b.ReportMetric(d/float64(b.N)/float64(spansPerOp), "cpu-ns/span")
	}
}

// streamRealistic appends about nSpans realistic spans to w in trace-ID
// order without holding them all in memory, returning the trace IDs.
func streamRealistic(tb testing.TB, w *Writer, nSpans int, seed uint64) []model.TraceID {
	r := rand.New(rand.NewPCG(seed, seed))
	world := newRealWorld(r)
	ids := make([]model.TraceID, nSpans/10)
	for i := range ids {
		ids[i] = randTraceID(r)
	}
	slices.SortFunc(ids, func(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		for _, s := range genRealistic(r, world, 1, benchBase) {
			s.TraceID = id
			if err := w.Append(s); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return ids
}

// largeBlock is built once per test binary run and removed by TestMain's
// cleanup.
var largeBlock struct {
	once sync.Once
	dir  string
	ids  []model.TraceID
	err  error
}

func benchSpans() int {
	n := 1_000_000
	if s := os.Getenv("BLOCK_BENCH_SPANS"); s != "" {
		fmt.Sscan(s, &n)
	}
	return n
}

func openLarge(b *testing.B) (*Block, []model.TraceID) {
	largeBlock.once.Do(func() {
		parent, err := os.MkdirTemp("", "clew-block-bench-")
		if err != nil {
			largeBlock.err = err
			return
		}
		w, err := NewWriter(parent, WriteOptions{})
		if err != nil {
			largeBlock.err = err
			return
		}
		largeBlock.ids = streamRealistic(b, w, benchSpans(), 42)
		meta, err := w.Finish()
		largeBlock.dir, largeBlock.err = filepath.Join(parent, meta.ID), err
	})
	if largeBlock.err != nil {
		b.Fatal(largeBlock.err)
	}
	blk, err := Open(largeBlock.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { blk.Close() })
	return blk, largeBlock.ids
}

func removeLargeBlock() {
	if largeBlock.dir != "" {
		os.RemoveAll(filepath.Dir(largeBlock.dir))
	}
}

// BenchmarkWrite measures streaming 100k realistic spans into a block.
func BenchmarkWrite(b *testing.B) {
	const n = 100_000
	r := rand.New(rand.NewPCG(1, 1))
	spans := sortSpans(genRealistic(r, newRealWorld(r), n/10, benchBase))
	parent := b.TempDir()
	b.ReportAllocs()
	var size int64
	b.ResetTimer()
	clk := startCPU()
	for i := 0; i < b.N; i++ {
		w, err := NewWriter(parent, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range spans {
			if err := w.Append(s); err != nil {
				b.Fatal(err)
			}
		}
		meta, err := w.Finish()
		if err != nil {
			b.Fatal(err)
		}
		size = meta.Bytes
		b.StopTimer()
		os.RemoveAll(filepath.Join(parent, meta.ID))
		b.StartTimer()
	}
	clk.report(b, len(spans))
	b.SetBytes(size)
	b.ReportMetric(float64(len(spans))*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(size)/float64(len(spans)), "B/span")
}

// BenchmarkBytesPerSpan reports the on-disk size of realistic spans, in
// total and per column.
func BenchmarkBytesPerSpan(b *testing.B) {
	const n = 500_000
	for i := 0; i < b.N; i++ {
		parent := b.TempDir()
		w, err := NewWriter(parent, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		streamRealistic(b, w, n, 7)
		meta, err := w.Finish()
		if err != nil {
			b.Fatal(err)
		}
		blk, err := Open(filepath.Join(parent, meta.ID))
		if err != nil {
			b.Fatal(err)
		}
		spans := float64(meta.SpanCount)
		b.ReportMetric(float64(meta.Bytes)/spans, "B/span")
		sizes := blk.ColumnSizes()
		slices.SortFunc(sizes, func(x, y ColumnSize) int { return int(y.Stored - x.Stored) })
		for _, c := range sizes {
			b.Logf("%-9s %7.2f B/span stored  %7.2f B/span raw", c.Name, float64(c.Stored)/spans, float64(c.Raw)/spans)
		}
		for _, c := range sizes[:4] {
			b.ReportMetric(float64(c.Stored)/spans, "B/span-"+c.Name)
		}
		blk.Close()
	}
}

// BenchmarkTraceByID looks up random stored traces in a large block.
func BenchmarkTraceByID(b *testing.B) {
	blk, ids := openLarge(b)
	r := rand.New(rand.NewPCG(3, 3))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	clk := startCPU()
	spans := 0
	for i := 0; i < b.N; i++ {
		got, err := blk.Trace(ctx, ids[r.IntN(len(ids))])
		if err != nil || len(got) == 0 {
			b.Fatal(err, len(got))
		}
		spans += len(got)
	}
	clk.report(b, 0)
	b.ReportMetric(float64(spans)/float64(b.N), "spans/op")
	b.ReportMetric(float64(blk.Meta().SpanCount), "blockspans")
}

// BenchmarkTraceByIDMissing looks up absent traces.
func BenchmarkTraceByIDMissing(b *testing.B) {
	blk, _ := openLarge(b)
	r := rand.New(rand.NewPCG(4, 4))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	clk := startCPU()
	for i := 0; i < b.N; i++ {
		got, err := blk.Trace(ctx, randTraceID(r))
		if err != nil || got != nil {
			b.Fatal(err)
		}
	}
	clk.report(b, 0)
}

// BenchmarkSearch runs typical searches over a large block, limit 20.
func BenchmarkSearch(b *testing.B) {
	blk, _ := openLarge(b)
	str := model.StringValue
	for _, bc := range []struct {
		name  string
		conds []storage.Condition
	}{
		{"service+attr", []storage.Condition{
			cond(storage.FieldService, storage.OpEqual, str("checkout")),
			attr(storage.ScopeSpan, "http.response.status_code", storage.OpEqual, model.IntValue(500))}},
		{"service+name+duration+attr", []storage.Condition{
			cond(storage.FieldService, storage.OpEqual, str("checkout")),
			cond(storage.FieldName, storage.OpEqual, str("checkout/POST /api/orders")),
			cond(storage.FieldDuration, storage.OpGreater, model.IntValue(100e6)),
			attr(storage.ScopeAny, "http.request.method", storage.OpEqual, str("DELETE"))}},
		{"rare-attr", []storage.Condition{attr(storage.ScopeSpan, "url.path", storage.OpEqual, str("/api/items/4242"))}},
		{"service", []storage.Condition{cond(storage.FieldService, storage.OpEqual, str("email"))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := storage.NewMatcher(&storage.Query{Conditions: bc.conds})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			clk := startCPU()
			hits := 0
			for i := 0; i < b.N; i++ {
				h, err := blk.Search(ctx, m, 20)
				if err != nil {
					b.Fatal(err)
				}
				hits += len(h)
			}
			clk.report(b, 0)
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
}

// BenchmarkDecode measures decoding whole row groups (Spans), per span.
func BenchmarkDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	spans := genRealistic(r, newRealWorld(r), 20_000, benchBase)
	blk := writeBlock(b, spans, WriteOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(blk.Meta().Bytes)
	b.ResetTimer()
	clk := startCPU()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, err := range blk.Spans(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(spans) {
			b.Fatal(n)
		}
	}
	clk.report(b, len(spans))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}
