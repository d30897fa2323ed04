package clickhouse

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// BenchmarkWrite measures acknowledged writes of 100-span batches (10
// traces of 10 spans, ten attributes a span) from 64×GOMAXPROCS parallel
// clients, the production batching (10,000 spans or 200 ms) and one
// ClickHouse server: the ingest path of `clew serve --storage=clickhouse`
// below the receivers. Each op is 100 spans; spans/s = 100 / (ns/op). It
// also reports the bytes on disk per span once ClickHouse has merged the
// parts (all four tables; the trace-ID table holds the whole span).
func BenchmarkWrite(b *testing.B) {
	db := openTest(b, b.TempDir(), Options{BatchSize: 10_000, FlushInterval: 200 * time.Millisecond})
	template := storagetest.GenerateTraces(1, 10, 10, time.Now().Add(-time.Minute))
	var seq, overloaded atomic.Uint64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]*model.Span, len(template))
		for pb.Next() {
			n := seq.Add(1)
			slab := make([]model.Span, len(template))
			for i, s := range template {
				slab[i] = *s
				binary.BigEndian.PutUint64(slab[i].TraceID[:8], n)
				batch[i] = &slab[i]
			}
			for {
				err := db.Write(context.Background(), batch)
				if err == nil {
					break
				}
				if !errors.Is(err, storage.ErrOverloaded) {
					b.Fatal(err)
				}
				overloaded.Add(1)
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(overloaded.Load())/float64(b.N), "overloaded/op")
	if b.N*len(template) >= 100_000 {
		b.ReportMetric(diskBytesPerSpan(b, db, uint64(b.N*len(template))), "disk-B/span")
	}
}

// diskBytesPerSpan merges every table to one part per partition and
// returns the compressed bytes of Clew's tables per span.
func diskBytesPerSpan(b *testing.B, db *DB, spans uint64) float64 {
	ctx := context.Background()
	for _, t := range dataTables {
		// NB: 18.16 answers OPTIMIZE at once while merges run; the loop
		// below waits for one part per partition.
		_ = db.exec(ctx, "OPTIMIZE TABLE "+db.schema.q(t)+" FINAL")
	}
	deadline := time.Now().Add(2 * time.Minute)
	var bytes, parts, partitions uint64
	for {
		if err := db.conn.QueryRow(ctx,
			"SELECT sum(bytes_on_disk), count(), uniqExact(table, partition) FROM system.parts WHERE active AND database = ? AND table != ?",
			db.Database(), tableMigrations).Scan(&bytes, &parts, &partitions); err != nil {
			b.Fatal(err)
		}
		if parts == partitions || time.Now().After(deadline) {
			break
		}
		for _, t := range dataTables {
			_ = db.exec(ctx, "OPTIMIZE TABLE "+db.schema.q(t)+" FINAL")
		}
		time.Sleep(500 * time.Millisecond)
	}
	return float64(bytes) / float64(spans)
}

// benchData writes 10,000 traces of 10 spans in 1,000-span writes (or,
// with CLEW_BENCH_SPANS, that many spans in chunks of 100,000, each chunk
// ten minutes after the one before) and returns their IDs.
func benchData(b *testing.B) (*DB, []model.TraceID) {
	db := openTest(b, b.TempDir(), Options{FlushInterval: 0, noLoops: true, EdgeRollupSettle: time.Second})
	chunks := 1
	if n, err := strconv.Atoi(os.Getenv("CLEW_BENCH_SPANS")); err == nil && n > 100_000 {
		chunks = n / 100_000
	}
	var ids []model.TraceID
	first := time.Now().Add(-time.Hour - time.Duration(chunks-1)*10*time.Minute)
	for i := range chunks {
		spans := storagetest.GenerateTraces(int64(10+i), 10_000, 10, first.Add(time.Duration(i)*10*time.Minute))
		for c := range slices.Chunk(spans, 1000) {
			if err := db.Write(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		for id := range byTraceID(spans) {
			ids = append(ids, id)
		}
	}
	return db, ids
}

// BenchmarkReads measures a trace lookup by ID (10 spans, no hint),
// searches for the 20 newest matching traces, summaries included, and the
// statistics reads, over 100,000 spans (about 9 minutes of them).
func BenchmarkReads(b *testing.B) {
	db, ids := benchData(b)
	ctx := context.Background()
	b.Run("TraceByID", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tr, err := db.Trace(ctx, ids[i%len(ids)], storage.TimeRange{})
			if err != nil || len(tr.Spans) != 10 {
				b.Fatalf("Trace: %v", err)
			}
			i++
		}
	})
	str := model.StringValue
	for _, bc := range []struct {
		name string
		q    *storage.Query
	}{
		{"FindAll", &storage.Query{}},
		{"FindService", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: str("payment")}}}},
		{"FindAttribute", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "http.status_code", Op: storage.OpGreaterEqual, Value: model.IntValue(500)}}}},
		{"FindRare", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}, {Field: storage.FieldService, Op: storage.OpEqual, Value: str("email")}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.FindTraces(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Dependencies", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Dependencies(ctx, storage.TimeRange{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// OperationStats over the whole range, in one bucket and per minute.
	for _, step := range []time.Duration{0, time.Minute} {
		name := "OperationStats"
		if step > 0 {
			name += "PerMinute"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.OperationStats(ctx, storage.StatsQuery{Step: step}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// EdgeStats twice: every minute computed live (just written), then
	// every minute read from the rollups.
	b.Run("EdgeStatsLive", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.EdgeStats(ctx, storage.StatsQuery{Step: time.Minute}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EdgeStatsRolledUp", func(b *testing.B) {
		rollUpAll(b, db)
		b.ResetTimer()
		for b.Loop() {
			if _, err := db.EdgeStats(ctx, storage.StatsQuery{Step: time.Minute}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
