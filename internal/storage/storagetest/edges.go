package storagetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// testEdgeStats checks StatsReader.EdgeStats against service edges computed
// from the written spans. Each trace's spans arrive in two writes with a
// flush between them, so that a trace's parent and child spans lie in
// different parts of a backend that has parts (the edge between them must
// still count, once), and some spans are written twice (a retried
// export: each child span counts once). Ranges and steps are whole minutes.
func (s *suite) testEdgeStats(t *testing.T) {
	ctx := context.Background()
	h, sr, spans := s.openStats(t, 11)
	var first, second []*model.Span
	for i, sp := range spans {
		if i%2 == 0 {
			first = append(first, sp)
		} else {
			second = append(second, sp)
		}
	}
	h.write(ctx, first)
	h.flush(ctx)
	h.write(ctx, append(second, first[:len(first)/10]...))
	r := spanRange(spans)
	start := r.Start - r.Start%uint64(time.Minute)
	svc := GeneratedServices()[1]
	mid := r.Start + (r.End-r.Start)/2
	mid -= mid % uint64(time.Minute)
	queries := []storage.StatsQuery{
		{Range: storage.TimeRange{Start: start, End: r.End}},
		{Range: storage.TimeRange{Start: start, End: r.End}, Step: time.Minute},
		{Range: storage.TimeRange{Start: start, End: r.End}, Step: 5 * time.Minute},
		{Service: svc, Range: storage.TimeRange{Start: start, End: r.End}, Step: 2 * time.Minute},
		{Range: storage.TimeRange{Start: mid, End: mid + uint64(time.Minute) - 1}},
		{Range: storage.TimeRange{Start: r.End + uint64(time.Hour)}},
	}
	check := func(when string) {
		t.Helper()
		for _, q := range queries {
			got, err := sr.EdgeStats(ctx, q)
			if err != nil {
				t.Fatalf("%s: EdgeStats(%+v): %v", when, q, err)
			}
			want := expectedEdges(spans, q)
			if len(want) == 0 && q.Range.End == 0 {
				if len(got) != 0 {
					t.Errorf("%s: EdgeStats after the data = %d edges, want none", when, len(got))
				}
				continue
			}
			if len(want) == 0 {
				t.Fatalf("%s: no edges expected for %+v: the generated data has none", when, q)
			}
			if len(got) != len(want) {
				t.Errorf("%s: EdgeStats(%+v): %d edges, want %d", when, q, len(got), len(want))
				continue
			}
			for i, w := range want {
				g := got[i]
				if g.Parent != w.parent || g.Child != w.child {
					t.Errorf("%s: edge %d = %s→%s, want %s→%s", when, i, g.Parent, g.Child, w.parent, w.child)
					continue
				}
				compareBuckets(t, when, w.parent+"→"+w.child, q, g.Buckets, w.buckets)
			}
		}
	}
	check("split across a flush")
	if h.flush(ctx) {
		check("after flush")
	}
}

type exactEdge struct {
	parent, child string
	buckets       []*exactBucket
}

// expectedEdges computes EdgeStats from the spans directly: a span whose
// parent (same trace, parent span ID) belongs to another service.
func expectedEdges(spans []*model.Span, q storage.StatsQuery) []*exactEdge {
	type spanKey struct {
		trace model.TraceID
		span  model.SpanID
	}
	services := map[spanKey]string{}
	for _, sp := range spans {
		services[spanKey{sp.TraceID, sp.SpanID}] = sp.Service()
	}
	type edgeKey struct{ parent, child string }
	edges := map[edgeKey]map[uint64]*exactBucket{}
	for _, sp := range spans {
		if sp.ParentSpanID.IsZero() || !q.Range.Contains(sp.StartUnixNano) {
			continue
		}
		ps, ok := services[spanKey{sp.TraceID, sp.ParentSpanID}]
		cs := sp.Service()
		if !ok || ps == cs || (q.Service != "" && q.Service != ps && q.Service != cs) {
			continue
		}
		k := edgeKey{ps, cs}
		if edges[k] == nil {
			edges[k] = map[uint64]*exactBucket{}
		}
		addExact(edges[k], q, sp)
	}
	var out []*exactEdge
	for k, m := range edges {
		out = append(out, &exactEdge{parent: k.parent, child: k.child, buckets: sortedExact(m)})
	}
	slices.SortFunc(out, func(a, b *exactEdge) int {
		return cmp.Or(cmp.Compare(a.parent, b.parent), cmp.Compare(a.child, b.child))
	})
	return out
}
