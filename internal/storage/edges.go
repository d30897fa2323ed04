package storage

import (
	"cmp"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
)

// EdgeStats holds the statistics of one caller→callee pair of services:
// the calls, errors and durations of the child spans.
type EdgeStats struct {
	Parent, Child string
	// Buckets are sorted by start; only buckets with calls appear.
	Buckets []StatsBucket
}

// ForEachEdge calls f for every span of one trace whose parent span is in
// spans and belongs to another service: the service edges that
// Dependencies and EdgeStats count. Every backend derives edges with it so
// that they all agree.
func ForEachEdge(spans []*model.Span, f func(parent, child *model.Span)) {
	byID := make(map[model.SpanID]*model.Span, len(spans))
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	for _, s := range spans {
		if s.IsRoot() {
			continue
		}
		p, ok := byID[s.ParentSpanID]
		if !ok || p == s || p.Service() == s.Service() {
			continue
		}
		f(p, s)
	}
}

// EdgeStatsBuilder accumulates service edges or partial buckets into the
// result of a StatsQuery's EdgeStats. The zero value is not usable; use
// NewEdgeStatsBuilder. It is not safe for concurrent use.
type EdgeStatsBuilder struct {
	q     StatsQuery
	edges seriesBuckets[DependencyKey]
}

// NewEdgeStatsBuilder returns a builder for q.
func NewEdgeStatsBuilder(q StatsQuery) *EdgeStatsBuilder {
	return &EdgeStatsBuilder{q: q, edges: seriesBuckets[DependencyKey]{}}
}

// Matches reports whether the edge belongs to the query.
func (b *EdgeStatsBuilder) Matches(parent, child string) bool {
	return b.q.Service == "" || b.q.Service == parent || b.q.Service == child
}

func (b *EdgeStatsBuilder) bucket(parent, child string, t uint64) *StatsBucket {
	return b.edges.bucket(b.q, DependencyKey{parent, child}, t)
}

// AddTrace counts the edges of one trace's spans (see [ForEachEdge]) whose
// child starts in the query's range.
func (b *EdgeStatsBuilder) AddTrace(spans []*model.Span) {
	ForEachEdge(spans, func(p, c *model.Span) {
		ps, cs := p.Service(), c.Service()
		if !b.q.Range.Contains(c.StartUnixNano) || !b.Matches(ps, cs) {
			return
		}
		bk := b.bucket(ps, cs, c.StartUnixNano)
		bk.Calls++
		if c.StatusCode == model.StatusError {
			bk.Errors++
		}
		bk.Latency.Add(float64(c.Duration()))
	})
}

// AddBucket merges partial statistics of child spans starting at t (for
// backends that keep them pre-aggregated, t is the partial bucket's
// start). The caller checks the range; lat is not retained.
func (b *EdgeStatsBuilder) AddBucket(parent, child string, t, calls, errs uint64, lat *sketch.Sketch) {
	if !b.Matches(parent, child) || calls == 0 {
		return
	}
	bk := b.bucket(parent, child, t)
	bk.Calls += calls
	bk.Errors += errs
	bk.Latency.Merge(lat)
}

// Result returns the sorted statistics.
func (b *EdgeStatsBuilder) Result() []EdgeStats {
	out := make([]EdgeStats, 0, len(b.edges))
	for k, m := range b.edges {
		out = append(out, EdgeStats{Parent: k.Parent, Child: k.Child, Buckets: sortedBuckets(m)})
	}
	slices.SortFunc(out, func(a, b EdgeStats) int {
		return cmp.Or(cmp.Compare(a.Parent, b.Parent), cmp.Compare(a.Child, b.Child))
	})
	return out
}
