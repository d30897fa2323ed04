package analysis

import (
	"cmp"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// GraphEdge is a caller→callee edge between services across traces.
type GraphEdge struct {
	Parent     string `json:"parent"`
	Child      string `json:"child"`
	CallCount  int    `json:"callCount"`
	ErrorCount int    `json:"errorCount"`
	// P50Ns and P99Ns are quantiles of the callee spans' durations.
	P50Ns int64 `json:"p50Ns"`
	P99Ns int64 `json:"p99Ns"`
}

// GraphBuilder accumulates the service graph of many traces. Edges come
// from the same span tree [Explain] uses, so shared Zipkin spans and
// orphans are treated alike: an edge for every span whose parent belongs
// to another service, counted once per child span. Not safe for
// concurrent use.
type GraphBuilder struct {
	r     storage.TimeRange
	edges map[[2]string]*edgeAcc
}

type edgeAcc struct {
	calls, errors int
	durations     []time.Duration
}

// NewGraphBuilder counts child spans that start in r.
func NewGraphBuilder(r storage.TimeRange) *GraphBuilder {
	return &GraphBuilder{r: r, edges: map[[2]string]*edgeAcc{}}
}

// Add adds one trace's spans.
func (g *GraphBuilder) Add(spans []*model.Span) {
	t := BuildTree(spans)
	for _, nd := range t.Nodes {
		p := nd.Parent
		if p == nil || p.Span.Service() == nd.Span.Service() || !g.r.Contains(nd.Span.StartUnixNano) {
			continue
		}
		k := [2]string{p.Span.Service(), nd.Span.Service()}
		e := g.edges[k]
		if e == nil {
			e = &edgeAcc{}
			g.edges[k] = e
		}
		e.calls++
		if Failed(nd.Span) {
			e.errors++
		}
		e.durations = append(e.durations, time.Duration(nd.Span.Duration()))
	}
}

// Edges returns the edges sorted by parent, then child.
func (g *GraphBuilder) Edges() []GraphEdge {
	out := make([]GraphEdge, 0, len(g.edges))
	for k, e := range g.edges {
		b := NewBaseline(e.durations)
		out = append(out, GraphEdge{Parent: k[0], Child: k[1], CallCount: e.calls, ErrorCount: e.errors,
			P50Ns: int64(b.P50), P99Ns: int64(b.P99)})
	}
	slices.SortFunc(out, func(a, b GraphEdge) int {
		if c := cmp.Compare(a.Parent, b.Parent); c != 0 {
			return c
		}
		return cmp.Compare(a.Child, b.Child)
	})
	return out
}
