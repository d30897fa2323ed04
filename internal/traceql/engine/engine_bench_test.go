package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local"
	"github.com/clew-tracing/clew/internal/storage/local/wal"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"github.com/clew-tracing/clew/internal/traceql/engine"
)

// The TraceQL benchmarks run over the embedded engine holding generated
// shop traces (storagetest.GenerateTraces, 20 spans each, one trace every
// 50 ms), cut into blocks and reopened so that every read comes from disk.
//
//	CLEW_BENCH_TRACEQL_SPANS  spans to store (default 200,000; docs/benchmarks.md uses 5,000,000)
//	CLEW_BENCH_TRACEQL_DIR    keep the data set there and reuse it on later runs
//
//	CLEW_BENCH_TRACEQL_SPANS=5000000 CLEW_BENCH_TRACEQL_DIR=/tmp/clew-traceql \
//	  go test ./internal/traceql/engine -run '^$' -bench TraceQL -benchtime 10x -timeout 1h
const (
	benchSpansPerTrace = 20
	benchTracesPerCall = 10_000
	benchSeed          = 42
)

type benchData struct {
	dir      string
	keep     bool
	db       *local.DB
	q        *query.Service
	start    time.Time // the first trace's start
	end      time.Time // the last trace's start
	spans    int
	buildDur time.Duration
	err      error
}

var (
	benchOnce sync.Once
	bench     benchData
)

func benchSpans() int {
	if s := os.Getenv("CLEW_BENCH_TRACEQL_SPANS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 200_000
}

// openBenchData builds (or reopens) the data set once per process.
func openBenchData(b *testing.B) *benchData {
	benchOnce.Do(func() {
		dir := os.Getenv("CLEW_BENCH_TRACEQL_DIR")
		bench.keep = dir != ""
		if !bench.keep {
			var err error
			if dir, err = os.MkdirTemp("", "clew-traceql-bench"); err != nil {
				bench.err = err
				return
			}
		}
		bench.dir = dir
		bench.spans = benchSpans()
		marker := filepath.Join(dir, "traceql-bench.txt")
		want := fmt.Sprintf("spans=%d seed=%d", bench.spans, benchSeed)
		if b, err := os.ReadFile(marker); err == nil && strings.HasPrefix(string(b), want+" start=") {
			ns, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(string(b)), want+" start="), 10, 64)
			bench.start = time.Unix(0, ns)
		} else {
			bench.err = buildBenchData(dir, marker, want)
			if bench.err != nil {
				return
			}
		}
		traces := bench.spans / benchSpansPerTrace
		bench.end = bench.start.Add(time.Duration(traces-1) * storagetest.TraceInterval)
		bench.db, bench.err = local.Open(dir, local.Options{Logger: slog.New(slog.DiscardHandler)})
		if bench.err != nil {
			return
		}
		bench.q, bench.err = query.New(bench.db, query.Options{})
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return &bench
}

// closeBenchData closes the data set after the benchmarks (TestMain), and
// removes it unless CLEW_BENCH_TRACEQL_DIR keeps it.
func closeBenchData() {
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.dir != "" && !bench.keep {
		os.RemoveAll(bench.dir)
	}
}

func buildBenchData(dir, marker, want string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	t0 := time.Now()
	traces := bench.spans / benchSpansPerTrace
	// The data ends a little before now, well within the default retention.
	bench.start = time.Now().Add(-time.Duration(traces)*storagetest.TraceInterval - 10*time.Minute).Truncate(time.Minute)
	db, err := local.Open(dir, local.Options{Logger: slog.New(slog.DiscardHandler), WALFsync: wal.FsyncInterval})
	if err != nil {
		return err
	}
	ctx := context.Background()
	for done := 0; done < traces; done += benchTracesPerCall {
		n := min(benchTracesPerCall, traces-done)
		spans := storagetest.GenerateTraces(benchSeed+int64(done), n, benchSpansPerTrace,
			bench.start.Add(time.Duration(done)*storagetest.TraceInterval))
		for i := 0; i < len(spans); {
			j := min(i+2000, len(spans))
			err := db.Write(ctx, spans[i:j])
			if errors.Is(err, storage.ErrOverloaded) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if err != nil {
				db.Close()
				return err
			}
			i = j
		}
	}
	if err := db.Flush(ctx); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	bench.buildDur = time.Since(t0)
	return os.WriteFile(marker, []byte(fmt.Sprintf("%s start=%d\n", want, bench.start.UnixNano())), 0o644)
}

// BenchmarkTraceQLSearch measures searches of 20 traces over the whole data set.
func BenchmarkTraceQLSearch(b *testing.B) {
	d := openBenchData(b)
	eng, err := engine.New(d.q, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := storage.TimeRange{Start: uint64(d.start.UnixNano()), End: uint64(d.end.Add(time.Minute).UnixNano())}
	for _, c := range []struct{ name, q string }{
		{"resource_and_span_attribute", `{ resource.telemetry.sdk.language = "rust" && span.rpc.method = "ShipOrder" }`},
		{"service_and_status_code", `{ resource.service.name = "frontend" && span.http.status_code >= 500 }`},
		{"structural", `{ resource.service.name = "checkout" } >> { resource.service.name = "payment" && status = error }`},
		{"not_pushed_down", `{ trace:duration > 900ms }`},
	} {
		b.Run(c.name, func(b *testing.B) {
			var res *engine.SearchResult
			b.ReportAllocs()
			for b.Loop() {
				if res, err = eng.Search(context.Background(), engine.SearchRequest{Query: c.q, Range: rng, Limit: 20}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Traces)), "traces")
			b.ReportMetric(float64(res.Stats.InspectedTraces), "inspected_traces")
			b.ReportMetric(float64(res.Stats.StorageQueries), "storage_queries")
			if res.Partial {
				b.ReportMetric(1, "partial")
			}
		})
	}
}

// BenchmarkTraceQLMetrics measures metrics queries over the last hour of
// the data set in one-minute steps, with the default bound on fetched
// traces and (all_traces) with a bound above the hour's trace count.
func BenchmarkTraceQLMetrics(b *testing.B) {
	d := openBenchData(b)
	end := d.end.Truncate(time.Minute).Add(time.Minute)
	start := end.Add(-time.Hour)
	for _, c := range []struct {
		name, q   string
		maxTraces int
	}{
		{"rate_by_service", `{ kind = server } | rate() by (resource.service.name)`, 0},
		{"rate_by_service_all_traces", `{ kind = server } | rate() by (resource.service.name)`, 1_000_000},
		{"errors_by_method", `{ resource.service.name = "payment" && status = error } | count_over_time() by (span.rpc.method)`, 0},
		{"p99_by_route", `{ kind = server && resource.service.name = "frontend" } | quantile_over_time(duration, .99) by (span.http.route)`, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			eng, err := engine.New(d.q, engine.Options{MetricsMaxTraces: c.maxTraces})
			if err != nil {
				b.Fatal(err)
			}
			var res *engine.MetricsResult
			b.ReportAllocs()
			for b.Loop() {
				req := engine.MetricsRequest{Query: c.q, Start: uint64(start.UnixNano()), End: uint64(end.UnixNano()), Step: uint64(time.Minute)}
				if res, err = eng.QueryRange(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Series)), "series")
			b.ReportMetric(float64(res.Stats.InspectedTraces), "inspected_traces")
			b.ReportMetric(float64(res.Stats.InspectedSpans), "inspected_spans")
			if res.Partial {
				b.ReportMetric(1, "partial")
			}
		})
	}
}
