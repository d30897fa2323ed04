package storage

import (
	"sort"

	"github.com/clew-tracing/clew/internal/model"
)

// Summarize computes the summary of a trace from its spans. Backends that
// filter in Go use it so that every backend summarises a trace the same way.
func Summarize(t *model.Trace) TraceSummary {
	sum := TraceSummary{TraceID: t.ID, SpanCount: len(t.Spans)}
	if len(t.Spans) == 0 {
		return sum
	}
	spans := make([]*model.Span, len(t.Spans))
	copy(spans, t.Spans)
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].StartUnixNano < spans[j].StartUnixNano })
	sum.StartUnixNano = spans[0].StartUnixNano
	idx := map[string]int{}
	var root *model.Span
	for _, s := range spans {
		if s.EndUnixNano > sum.EndUnixNano {
			sum.EndUnixNano = s.EndUnixNano
		}
		isErr := s.StatusCode == model.StatusError
		if isErr {
			sum.ErrorCount++
		}
		svc := s.Service()
		i, ok := idx[svc]
		if !ok {
			i = len(sum.Services)
			idx[svc] = i
			sum.Services = append(sum.Services, ServiceStat{Name: svc})
		}
		sum.Services[i].SpanCount++
		if isErr {
			sum.Services[i].ErrorCount++
		}
		if root == nil && s.IsRoot() {
			root = s
		}
	}
	if root != nil {
		sum.HasRoot = true
	} else {
		root = spans[0]
	}
	sum.RootService, sum.RootName = root.Service(), root.Name
	return sum
}

// DependencyKey identifies a caller→callee pair.
type DependencyKey struct{ Parent, Child string }

// AddDependencies adds the service edges of one trace to acc: an edge for
// every span whose parent span belongs to a different service, counted once
// per child span and as an error when the child failed. Only children that
// start in r count.
func AddDependencies(acc map[DependencyKey]*Dependency, spans []*model.Span, r TimeRange) {
	ForEachEdge(spans, func(p, c *model.Span) {
		if !r.Contains(c.StartUnixNano) {
			return
		}
		k := DependencyKey{p.Service(), c.Service()}
		d := acc[k]
		if d == nil {
			d = &Dependency{Parent: k.Parent, Child: k.Child}
			acc[k] = d
		}
		d.CallCount++
		if c.StatusCode == model.StatusError {
			d.ErrorCount++
		}
	})
}

// SortedDependencies flattens acc, sorted by parent then child.
func SortedDependencies(acc map[DependencyKey]*Dependency) []Dependency {
	out := make([]Dependency, 0, len(acc))
	for _, d := range acc {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Parent != out[j].Parent {
			return out[i].Parent < out[j].Parent
		}
		return out[i].Child < out[j].Child
	})
	return out
}
