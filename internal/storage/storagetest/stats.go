package storagetest

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// testOperationStats checks storage.StatsReader against statistics
// computed from the written spans: calls and errors exactly, quantiles
// within 2% of the exact ones (nearest rank). Ranges and steps are whole minutes, the
// resolution a backend may keep statistics at. It runs before and after
// a flush, so that both of a backend's forms are checked.
func (s *suite) testOperationStats(t *testing.T) {
	ctx := context.Background()
	h, sr, spans := s.openStats(t, 7)
	h.write(ctx, spans)
	r := spanRange(spans)
	start := r.Start - r.Start%uint64(time.Minute)
	queries := []storage.StatsQuery{
		{Range: storage.TimeRange{Start: start, End: r.End}},
		{Range: storage.TimeRange{Start: start, End: r.End}, Step: time.Minute},
		{Range: storage.TimeRange{Start: start, End: r.End}, Step: 5 * time.Minute},
		{Service: spans[0].Service(), Range: storage.TimeRange{Start: start, End: r.End}, Step: 2 * time.Minute},
		{Service: spans[0].Service(), Operation: spans[0].Name, Range: storage.TimeRange{Start: start + uint64(time.Minute), End: start + uint64(3*time.Minute) - 1}},
	}
	check := func(when string) {
		t.Helper()
		for _, q := range queries {
			got, err := sr.OperationStats(ctx, q)
			if err != nil {
				t.Fatalf("%s: OperationStats(%+v): %v", when, q, err)
			}
			compareStats(t, when, q, got, expectedStats(spans, q))
		}
	}
	check("before flush")
	if h.flush(ctx) {
		check("after flush")
	}
}

type exactBucket struct {
	start         uint64
	calls, errors uint64
	durations     []float64
}

// openStats opens a backend for a statistics check, skipping the test
// when it keeps no statistics, and generates its traces (from seed) in
// whole minutes.
func (s *suite) openStats(t *testing.T, seed int64) (*handle, storage.StatsReader, []*model.Span) {
	t.Helper()
	h := s.open(t, t.TempDir())
	sr, ok := h.Backend.(storage.StatsReader)
	if !ok {
		t.Skip("backend does not implement storage.StatsReader")
	}
	n := 300
	if s.opts.SkipSlow {
		n = 60
	}
	return h, sr, GenerateTraces(seed, n, 8, s.opts.baseTime().Truncate(time.Minute))
}

// addExact counts span sp in its bucket of q in series m.
func addExact(m map[uint64]*exactBucket, q storage.StatsQuery, sp *model.Span) {
	st := q.BucketStart(sp.StartUnixNano)
	b := m[st]
	if b == nil {
		b = &exactBucket{start: st}
		m[st] = b
	}
	b.calls++
	if sp.StatusCode == model.StatusError {
		b.errors++
	}
	b.durations = append(b.durations, float64(sp.Duration()))
}

// sortedExact returns a series' buckets by start, durations sorted.
func sortedExact(m map[uint64]*exactBucket) []*exactBucket {
	var out []*exactBucket
	for _, b := range m {
		slices.Sort(b.durations)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *exactBucket) int { return cmp.Compare(a.start, b.start) })
	return out
}

type exactOp struct {
	service, name string
	kind          model.SpanKind
	buckets       []*exactBucket
}

func expectedStats(spans []*model.Span, q storage.StatsQuery) []*exactOp {
	type key struct {
		service, name string
		kind          model.SpanKind
	}
	ops := map[key]map[uint64]*exactBucket{}
	for _, sp := range spans {
		svc := sp.Service()
		if (q.Service != "" && svc != q.Service) || (q.Operation != "" && sp.Name != q.Operation) || !q.Range.Contains(sp.StartUnixNano) {
			continue
		}
		k := key{svc, sp.Name, sp.Kind}
		if ops[k] == nil {
			ops[k] = map[uint64]*exactBucket{}
		}
		addExact(ops[k], q, sp)
	}
	var out []*exactOp
	for k, m := range ops {
		out = append(out, &exactOp{service: k.service, name: k.name, kind: k.kind, buckets: sortedExact(m)})
	}
	slices.SortFunc(out, func(a, b *exactOp) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.name, b.name), cmp.Compare(a.kind, b.kind))
	})
	return out
}

func compareStats(t *testing.T, when string, q storage.StatsQuery, got []storage.OperationStats, want []*exactOp) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: OperationStats(%+v): %d operations, want %d", when, q, len(got), len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Service != w.service || g.Operation != w.name || g.Kind != w.kind {
			t.Errorf("%s: operation %d = %s/%s/%v, want %s/%s/%v", when, i, g.Service, g.Operation, g.Kind, w.service, w.name, w.kind)
			continue
		}
		compareBuckets(t, when, w.service+"/"+w.name, q, g.Buckets, w.buckets)
	}
}

// compareBuckets compares one series' buckets: start, calls and errors
// exactly, quantiles within 2% of the exact ones (nearest rank).
func compareBuckets(t *testing.T, when, what string, q storage.StatsQuery, got []storage.StatsBucket, want []*exactBucket) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %s (step %v): %d buckets, want %d", when, what, q.Step, len(got), len(want))
		return
	}
	for j, wb := range want {
		gb := &got[j]
		if gb.StartUnixNano != wb.start || gb.Calls != wb.calls || gb.Errors != wb.errors || gb.Latency.Count() != wb.calls {
			t.Errorf("%s: %s bucket %d = start %d calls %d errors %d, want %d %d %d",
				when, what, j, gb.StartUnixNano, gb.Calls, gb.Errors, wb.start, wb.calls, wb.errors)
			continue
		}
		for _, qq := range []float64{0.5, 0.95, 0.99} {
			exact := wb.durations[max(int(math.Ceil(qq*float64(len(wb.durations)))), 1)-1]
			if est := gb.Latency.Quantile(qq); math.Abs(est-exact) > 0.02*exact {
				t.Errorf("%s: %s bucket %d p%v = %v, want %v within 2%%", when, what, j, qq*100, est, exact)
			}
		}
	}
}

// probeStats reports whether the backends f opens implement
// storage.StatsReader, opening and closing one to find out.
func probeStats(t *testing.T, f Factory) (storage.StatsReader, bool) {
	t.Helper()
	b := f(t, t.TempDir())
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	sr, ok := b.(storage.StatsReader)
	return sr, ok
}
