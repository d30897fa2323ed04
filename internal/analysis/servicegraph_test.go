package analysis

import (
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func TestGraphBuilder(t *testing.T) {
	a, b := res("a"), res("b")
	g := NewGraphBuilder(storage.TimeRange{Start: ms(0), End: ms(1000)})
	g.Add(slowLeaf().Spans)
	g.Add(failingLeaf().Spans)
	g.Add([]*model.Span{ // Zipkin shared span: one a→b edge, not b→b
		span("1", "", a, "root", 0, 100),
		span("2", "1", a, "call", 10, 50, kind(model.KindClient)),
		span("2", "1", b, "serve", 12, 46, kind(model.KindServer)),
		span("3", "", a, "too early", -10, 5), // outside the range: ignored as a child anyway
	})
	g.Add([]*model.Span{span("1", "", a, "root", 2000, 10), span("2", "1", b, "late", 2001, 5)}) // child outside the range
	got := g.Edges()
	want := []GraphEdge{
		{Parent: "a", Child: "b", CallCount: 1, P50Ns: int64(46 * time.Millisecond), P99Ns: int64(46 * time.Millisecond)},
		{Parent: "checkout", Child: "payment", CallCount: 2, ErrorCount: 1, P50Ns: int64(930 * time.Millisecond), P99Ns: int64(930 * time.Millisecond)},
		{Parent: "payment", Child: "bank", CallCount: 2, ErrorCount: 1, P50Ns: int64(700 * time.Millisecond), P99Ns: int64(700 * time.Millisecond)},
	}
	if len(got) != len(want) {
		t.Fatalf("edges = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("edge %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
