package analysis

import (
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

func TestSelfTimes(t *testing.T) {
	a := res("a")
	for _, tc := range []struct {
		name  string
		spans []*model.Span
		want  map[string]float64 // ms by span name
	}{
		{
			name:  "leaf: all its own",
			spans: []*model.Span{span("1", "", a, "root", 0, 100)},
			want:  map[string]float64{"root": 100},
		},
		{
			name: "sequential children",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "x", 10, 20),
				span("3", "1", a, "y", 40, 30),
			},
			want: map[string]float64{"root": 50, "x": 20, "y": 30},
		},
		{
			name: "overlapping children are counted once",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "x", 10, 50),
				span("3", "1", a, "y", 20, 30),
				span("4", "1", a, "z", 50, 20),
			},
			want: map[string]float64{"root": 40, "x": 50, "y": 30, "z": 20},
		},
		{
			name: "children outside the parent are clipped",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "late", 90, 50),
			},
			want: map[string]float64{"root": 90, "late": 50},
		},
		{
			name: "grandchildren do not count against the root",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "x", 0, 60),
				span("3", "2", a, "deep", 0, 60),
			},
			want: map[string]float64{"root": 40, "x": 0, "deep": 60},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := BuildTree(tc.spans)
			self := SelfTimes(tr)
			for name, want := range tc.want {
				if got := self[byName(tr, name).Index]; got != dur(want) {
					t.Errorf("%s: self %s, want %vms", name, fmtNs(got), want)
				}
			}
		})
	}
}

func TestServices(t *testing.T) {
	tr := BuildTree(slowLeaf().Spans)
	failed := make([]bool, len(tr.Nodes))
	failed[byName(tr, "POST /charge").Index] = true
	svcs, calls := Services(tr, SelfTimes(tr), failed)
	type svc struct {
		name          string
		spans, errors int
		self          float64
	}
	want := []svc{{"checkout", 3, 0, 20 + 20 + 30}, {"payment", 2, 1, 30 + 200}, {"bank", 1, 0, 700}}
	if len(svcs) != len(want) {
		t.Fatalf("services = %+v", svcs)
	}
	for i, w := range want {
		g := svcs[i]
		if g.Name != w.name || g.SpanCount != w.spans || g.ErrorCount != w.errors || g.SelfTime != dur(w.self) {
			t.Errorf("service %d = %s %d spans %d errors %s self, want %+v", i, g.Name, g.SpanCount, g.ErrorCount, fmtNs(g.SelfTime), w)
		}
	}
	if len(calls) != 2 ||
		calls[0] != (CallStat{From: "checkout", To: "payment", Count: 1, Total: dur(930), Errors: 1}) ||
		calls[1] != (CallStat{From: "payment", To: "bank", Count: 1, Total: dur(700)}) {
		t.Errorf("calls = %+v", calls)
	}
}
