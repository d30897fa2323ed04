package local

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/wal"
)

// benchOptions are the production defaults with a quiet logger.
func benchOptions() Options {
	return Options{Logger: slog.New(slog.DiscardHandler), WALFsync: wal.FsyncAlways}
}

// BenchmarkWrite measures durable writes (fsync always, group commit) of
// 100-span batches from 8×GOMAXPROCS parallel writers. Each op copies the template
// batch under a fresh trace ID prefix (one allocation for the copies). A
// write refused with ErrOverloaded (the head full while a cut runs) is
// retried after a millisecond and counted in overloaded/op.
func BenchmarkWrite(b *testing.B) {
	db := openDB(b, b.TempDir(), benchOptions())
	template := gen(1, 10, 10, time.Now().Add(-time.Minute))
	b.SetBytes(int64(len(newRecordEncoder().encode(template))))
	var seq, overloaded atomic.Uint64
	// Many concurrent clients, so that group commit shares each fsync.
	b.SetParallelism(8)
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

			// NB: like a real client, back off and retry while a cut
			// catches up with a full head.
			for {
				err := db.Write(context.Background(), batch)
				if err == nil {
					break
				}
				if !errors.Is(err, storage.ErrOverloaded) {
					b.Fatal(err)
				}
				overloaded.Add(1)
				time.Sleep(time.Millisecond)
			}
		}
	})
	b.ReportMetric(float64(overloaded.Load())/float64(b.N), "overloaded/op")
}

// benchDB returns a DB holding 10,000 traces of 10 spans: the older half in
// two blocks, the newer half in the head; and the IDs of each half.
func benchDB(b *testing.B) (db *DB, inBlocks, inHead []model.TraceID) {
	b.Helper()
	db = openDB(b, b.TempDir(), benchOptions())
	start := time.Now().Add(-time.Hour)
	for part := range 4 {
		spans := gen(int64(10+part), 2500, 10, start.Add(time.Duration(part)*10*time.Minute))
		for i := 0; i < len(spans); i += 1000 {
			mustWrite(b, db, spans[i:min(i+1000, len(spans))])
		}
		ids := make([]model.TraceID, 0, 2500)
		for id := range byTrace(spans) {
			ids = append(ids, id)
		}
		if part < 2 {
			mustFlush(b, db)
			inBlocks = append(inBlocks, ids...)
		} else {
			inHead = append(inHead, ids...)
		}
	}
	return db, inBlocks, inHead
}

// BenchmarkTraceByID measures a trace lookup (10 spans) that finds the
// trace in the head or in one of two blocks, with no time hint.
func BenchmarkTraceByID(b *testing.B) {
	db, inBlocks, inHead := benchDB(b)
	for _, bc := range []struct {
		name string
		ids  []model.TraceID
	}{{"head", inHead}, {"block", inBlocks}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tr, err := db.Trace(context.Background(), bc.ids[i%len(bc.ids)], storage.TimeRange{})
				if err != nil || len(tr.Spans) != 10 {
					b.Fatalf("Trace: %v", err)
				}
				i++
			}
		})
	}
}

// BenchmarkFindTraces measures searches for the 20 newest matching traces
// over 100,000 spans in the head and two blocks, summaries included.
func BenchmarkFindTraces(b *testing.B) {
	db, _, _ := benchDB(b)
	str := model.StringValue
	for _, bc := range []struct {
		name string
		q    *storage.Query
	}{
		{"all", &storage.Query{}},
		{"service", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: str("payment")}}}},
		{"attribute", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "http.status_code", Op: storage.OpGreaterEqual, Value: model.IntValue(500)}}}},
		{"rare", &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}, {Field: storage.FieldService, Op: storage.OpEqual, Value: str("email")}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.FindTraces(context.Background(), bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeRecord measures WAL replay decoding of a 100-span record.
func BenchmarkDecodeRecord(b *testing.B) {
	rec := newRecordEncoder().encode(gen(2, 10, 10, time.Now()))
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}
