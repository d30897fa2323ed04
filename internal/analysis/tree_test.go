package analysis

import (
	"reflect"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

func TestBuildTree(t *testing.T) {
	a, b := res("a"), res("b")
	followsFrom := model.KeyValue{Key: "opentracing.ref_type", Value: model.StringValue("follows_from")}
	for _, tc := range []struct {
		name     string
		spans    []*model.Span
		want     string // shape()
		root     string
		warnings []string // substrings, in order
	}{
		{
			name: "children sorted by start, whatever the input order",
			spans: []*model.Span{
				span("3", "1", a, "second", 20, 5),
				span("2", "1", a, "first", 10, 5),
				span("1", "", a, "root", 0, 100),
				span("4", "2", a, "grandchild", 11, 1),
			},
			want: "root(first(grandchild),second)", root: "root",
		},
		{
			name: "orphans hang under the root",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "99", b, "lost", 10, 5),
			},
			want: "root(?lost)", root: "root",
			warnings: []string{"1 spans whose parent is missing"},
		},
		{
			name: "missing root: the earliest orphan stands in",
			spans: []*model.Span{
				span("2", "99", b, "late", 10, 5),
				span("3", "98", b, "early", 5, 50),
				span("4", "3", b, "child", 6, 1),
			},
			want: "early(child,?late)", root: "early",
			warnings: []string{"root span has not arrived", "1 spans whose parent is missing"},
		},
		{
			name: "extra roots stay roots; the earliest is explained",
			spans: []*model.Span{
				span("2", "", b, "batch", 50, 5),
				span("1", "", a, "root", 0, 100),
			},
			want: "root batch", root: "root",
			warnings: []string{"2 spans without a parent"},
		},
		{
			name: "a parentless span linked into the trace is an async child",
			spans: []*model.Span{
				span("1", "", a, "publish", 0, 10, kind(model.KindProducer)),
				span("2", "", b, "consume", 30, 50, kind(model.KindConsumer), linkTo("1")),
			},
			want: "publish(~consume)", root: "publish",
			warnings: []string{"link to a span of this trace"},
		},
		{
			name: "producer/consumer, FOLLOWS_FROM and late children are async",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "send", 10, 5, kind(model.KindProducer)),
				span("3", "2", b, "receive", 20, 5, kind(model.KindConsumer)),
				span("4", "1", b, "after", 30, 5, linkTo("1", followsFrom)),
				span("5", "1", a, "fire-and-forget", 150, 5), // same clock: not re-centred
				span("6", "1", b, "sync", 40, 5),
			},
			want: "root(send(~receive),~after,sync,~fire-and-forget)", root: "root",
		},
		{
			name: "Zipkin shared span: the server half is a child of the client half",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "call", 10, 50, kind(model.KindClient)),
				span("2", "1", b, "serve", 12, 46, kind(model.KindServer)),
				span("3", "2", b, "db", 15, 10, kind(model.KindClient)),
			},
			want: "root(call(serve(db)))", root: "root",
			warnings: []string{"1 span IDs are shared"},
		},
		{
			name: "parent cycle is cut at its earliest span",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "3", a, "x", 10, 5),
				span("3", "2", a, "y", 11, 2),
			},
			want: "root(?x(y))", root: "root",
			warnings: []string{"1 cycles"},
		},
		{
			name: "nothing but a cycle: its earliest span becomes the root",
			spans: []*model.Span{
				span("2", "3", a, "x", 10, 5),
				span("3", "2", a, "y", 11, 2),
			},
			want: "x(y)", root: "x",
			warnings: []string{"1 cycles"},
		},
		{
			name: "a span that is its own parent is an orphan",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "2", a, "self", 10, 5),
			},
			want: "root(?self)", root: "root",
			warnings: []string{"1 spans whose parent is missing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := make([]model.Span, len(tc.spans))
			for i, s := range tc.spans {
				before[i] = *s
			}
			tr := BuildTree(tc.spans)
			if got := shape(tr); got != tc.want {
				t.Errorf("shape = %s, want %s", got, tc.want)
			}
			if tr.Root == nil || tr.Root.Span.Name != tc.root {
				t.Errorf("root = %v, want %s", tr.Root, tc.root)
			}
			checkInvariants(t, tr, len(tc.spans))
			rest := strings.Join(tr.Warnings, "\n")
			for _, w := range tc.warnings {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("warnings %q lack %q", tr.Warnings, w)
					continue
				}
				rest = rest[i+len(w):]
			}
			if len(tc.warnings) == 0 && len(tr.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", tr.Warnings)
			}
			for i, s := range tc.spans {
				if !reflect.DeepEqual(*s, before[i]) {
					t.Errorf("span %s was modified", s.Name)
				}
			}
		})
	}
}

// checkInvariants verifies the structural promises of a Tree.
func checkInvariants(t *testing.T, tr *Tree, n int) {
	t.Helper()
	if len(tr.Nodes) != n {
		t.Fatalf("%d nodes, want %d", len(tr.Nodes), n)
	}
	if tr.Roots[0] != tr.Root {
		t.Error("Roots[0] is not Root")
	}
	for i, nd := range tr.Nodes {
		if nd.Index != i {
			t.Errorf("%s: index %d at %d", nd.Span.Name, nd.Index, i)
		}
		if nd.Parent != nil {
			if nd.Depth != nd.Parent.Depth+1 || nd.Parent.Index >= nd.Index {
				t.Errorf("%s: depth/order wrong under %s", nd.Span.Name, nd.Parent.Span.Name)
			}
		} else if nd.Depth != 0 {
			t.Errorf("%s: root with depth %d", nd.Span.Name, nd.Depth)
		}
		for j := 1; j < len(nd.Children); j++ {
			if nd.Children[j-1].Start > nd.Children[j].Start {
				t.Errorf("%s: children out of order", nd.Span.Name)
			}
		}
	}
}

func TestBuildTreeEmpty(t *testing.T) {
	tr := BuildTree([]*model.Span{nil})
	if tr.Root != nil || len(tr.Nodes) != 0 {
		t.Errorf("empty trace: %+v", tr)
	}
}
