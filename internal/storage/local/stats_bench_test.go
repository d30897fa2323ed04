package local

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// BenchmarkStatsAdd measures what the head's statistics add to appending
// one span.
func BenchmarkStatsAdd(b *testing.B) {
	spans := gen(1, 100, 10, time.Unix(1_700_000_000, 0))
	st := opStats{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s := spans[i%len(spans)]
		st.add(s, s.Service())
	}
}

// BenchmarkEdgesAddTrace measures what computing a trace's edge cells
// adds to a cut or a compaction, per span.
func BenchmarkEdgesAddTrace(b *testing.B) {
	traces := slices.Collect(maps.Values(byTrace(gen(1, 100, 10, time.Unix(1_700_000_000, 0)))))
	st := edgeStats{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		st.addTrace(traces[i%len(traces)], storage.TimeRange{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/span")
}

// BenchmarkServiceGraph compares the service graph of an hour read from
// the edge statistics (EdgeStats) with one computed by decoding every
// span (Dependencies), over 400,000 spans in blocks and 50,000 in the
// head.
func BenchmarkServiceGraph(b *testing.B) {
	db := openDB(b, b.TempDir(), benchOptions())
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for part := range 9 {
		spans := gen(int64(20+part), 5000, 10, start.Add(time.Duration(part)*6*time.Minute))
		for i := 0; i < len(spans); i += 1000 {
			mustWrite(b, db, spans[i:min(i+1000, len(spans))])
		}
		if part < 8 {
			mustFlush(b, db)
		}
	}
	r := storage.TimeRange{Start: uint64(start.UnixNano()), End: uint64(time.Now().UnixNano())}
	benchGraphReads(b, db, r)
}

// BenchmarkServiceGraphSplit is BenchmarkServiceGraph's worst case: every
// one of 20,000 traces (200,000 spans) has its spans in two level-0
// blocks and the head, as traces in flight across cuts do, so every trace
// is recounted from its merged spans.
func BenchmarkServiceGraphSplit(b *testing.B) {
	db := openDB(b, b.TempDir(), benchOptions())
	start := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)
	spans := gen(40, 20_000, 10, start)
	for third := range 3 {
		var part []*model.Span
		for i, s := range spans {
			if i%3 == third {
				part = append(part, s)
			}
		}
		for i := 0; i < len(part); i += 1000 {
			mustWrite(b, db, part[i:min(i+1000, len(part))])
		}
		if third < 2 {
			mustFlush(b, db)
		}
	}
	r := storage.TimeRange{Start: uint64(start.UnixNano()), End: uint64(time.Now().UnixNano())}
	benchGraphReads(b, db, r)
}

// benchGraphReads measures the service graph of r read both ways.
func benchGraphReads(b *testing.B, db *DB, r storage.TimeRange) {
	ctx := context.Background()
	b.Run("EdgeStats", func(b *testing.B) {
		for range b.N {
			if _, err := db.EdgeStats(ctx, storage.StatsQuery{Range: r}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Dependencies", func(b *testing.B) {
		for range b.N {
			if _, err := db.Dependencies(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
