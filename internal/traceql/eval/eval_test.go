package eval_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/eval"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sp(id, parent byte, start uint64, kind model.SpanKind) *model.Span {
	s := &model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{7: id}, Kind: kind, StartUnixNano: start, EndUnixNano: start + 10}
	if parent != 0 {
		s.ParentSpanID = model.SpanID{7: parent}
	}
	return s
}

// numbering renders each span as id[left,right]^parent.
func numbering(t *eval.Trace) string {
	var out string
	for _, s := range t.Spans {
		p := byte(0)
		if s.Parent != nil {
			p = s.Parent.SpanID[7]
		}
		out += fmt.Sprintf("%d[%d,%d]^%d ", s.SpanID[7], s.Left, s.Right, p)
	}
	return out
}

func TestNewTrace(t *testing.T) {
	f := func(name, want string, spans ...*model.Span) {
		t.Helper()
		tr := eval.NewTrace(&model.Trace{ID: model.TraceID{1}, Spans: spans})
		if got := numbering(tr); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	f("tree", "1[1,8]^0 2[2,5]^1 3[3,4]^2 4[6,7]^1 ",
		sp(3, 2, 30, 0), sp(1, 0, 10, 0), sp(4, 1, 40, 0), sp(2, 1, 20, 0))
	f("orphan starts its own tree", "1[1,4]^0 2[5,6]^0 3[2,3]^1 ",
		sp(1, 0, 10, 0), sp(2, 9, 20, 0), sp(3, 1, 30, 0))
	f("cycle cut at the earliest span", "1[1,4]^0 2[2,3]^1 ",
		sp(1, 2, 10, 0), sp(2, 1, 20, 0))
	f("self parent", "1[1,2]^0 ", sp(1, 1, 10, 0))
	// Zipkin shared spans: client and server halves share an ID; the
	// child hangs under the server half.
	client, server := sp(2, 1, 20, model.KindClient), sp(2, 1, 21, model.KindServer)
	f("shared span", "1[1,8]^0 2[2,3]^1 2[4,7]^1 3[5,6]^2 ", sp(1, 0, 10, 0), client, server, sp(3, 2, 30, 0))

	tr := eval.NewTrace(&model.Trace{Spans: []*model.Span{sp(2, 1, 20, 0), sp(1, 0, 10, 0)}})
	if tr.Root == nil || tr.Root.SpanID[7] != 1 || tr.Start != 10 || tr.End != 30 {
		t.Errorf("root %v, start %d, end %d", tr.Root, tr.Start, tr.End)
	}
	if !tr.Spans[0].IsAncestorOf(tr.Spans[1]) || tr.Spans[1].IsAncestorOf(tr.Spans[0]) {
		t.Error("IsAncestorOf")
	}
}

func TestCompare(t *testing.T) {
	s, i, f := traceql.StringValue, traceql.IntValue, traceql.FloatValue
	d := func(n int64) traceql.Value { return traceql.Value{Type: traceql.TypeDuration, Int: n} }
	b := traceql.BoolValue
	eq, ne, lt, gt := traceql.OpEq, traceql.OpNeq, traceql.OpLt, traceql.OpGt
	for _, c := range []struct {
		op   traceql.BinaryOp
		l, r traceql.Value
		want bool
	}{
		{eq, i(1), f(1), true},
		{lt, i(1), f(1.5), true},
		{eq, i(math.MaxInt64), i(math.MaxInt64 - 1), false}, // ints compare exactly
		{eq, d(1000), i(1000), true},
		{gt, d(2e9), f(1.5e9), true},
		{eq, s("200"), i(200), false},
		{ne, s("200"), i(200), false}, // different types: neither equal nor unequal
		{ne, s("a"), s("b"), true},
		{lt, s("a"), s("b"), true},
		{eq, b(true), b(true), true},
		{lt, b(false), b(true), false}, // bools do not order
		{eq, traceql.StatusValue(model.StatusError), traceql.StatusValue(model.StatusError), true},
		{gt, traceql.KindValue(model.KindServer), traceql.KindValue(model.KindClient), false},
		{eq, traceql.Nil, traceql.Nil, false}, // missing values compare false
		{ne, traceql.Nil, s("x"), false},
		{eq, f(math.NaN()), f(math.NaN()), false},
		{ne, f(math.NaN()), f(1), true},
	} {
		if got := eval.Compare(c.op, c.l, c.r); got != c.want {
			t.Errorf("%v %s %v = %t, want %t", c.l, c.op, c.r, got, c.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	i, f := traceql.IntValue, traceql.FloatValue
	d := func(n int64) traceql.Value { return traceql.Value{Type: traceql.TypeDuration, Int: n} }
	for _, c := range []struct {
		op   traceql.BinaryOp
		l, r traceql.Value
		want traceql.Value
	}{
		{traceql.OpAdd, i(1), i(2), i(3)},
		{traceql.OpSub, i(1), f(0.5), f(0.5)},
		{traceql.OpMul, d(10), i(3), d(30)},
		{traceql.OpDiv, i(7), i(2), f(3.5)},
		{traceql.OpMod, i(7), i(3), i(1)},
		{traceql.OpMod, i(7), i(0), traceql.Nil},
		{traceql.OpMod, f(7.5), i(2), f(1.5)},
		{traceql.OpPow, i(2), i(10), f(1024)},
		{traceql.OpAdd, traceql.StringValue("a"), i(1), traceql.Nil},
		{traceql.OpAdd, traceql.Nil, i(1), traceql.Nil},
	} {
		if got := eval.Arithmetic(c.op, c.l, c.r); got != c.want {
			t.Errorf("%v %s %v = %v, want %v", c.l, c.op, c.r, got, c.want)
		}
	}
}

func TestQuantileAndHistogram(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for q, want := range map[float64]float64{0: 1, 0.25: 2, 0.5: 3, 0.9: 4.6, 1: 5} {
		if got := eval.Quantile(xs, q); math.Abs(got-want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if !math.IsNaN(eval.Quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
	for x, want := range map[float64]float64{0: 0, -1: 0, 1e-9: 1e-9, 3e-9: 4e-9, 1: 1.073741824, 0.001: 0.001048576} {
		if got := eval.HistogramBucket(x); math.Abs(got-want) > 1e-15 {
			t.Errorf("HistogramBucket(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestSpansetsRange(t *testing.T) {
	q, err := traceql.Parse("{ } | count() = 1")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.Compile(q)
	if err != nil {
		t.Fatal(err)
	}
	tr := eval.NewTrace(&model.Trace{Spans: []*model.Span{sp(1, 0, 10, 0), sp(2, 1, 20, 0)}})
	if sets := ev.Spansets(tr, storage.TimeRange{}); len(sets) != 0 {
		t.Errorf("whole trace: %v", sets)
	}
	if sets := ev.Spansets(tr, storage.TimeRange{Start: 15}); len(sets) != 1 || sets[0].Spans[0].SpanID[7] != 2 {
		t.Errorf("from 15: %v", sets)
	}
	if sets := ev.Spansets(tr, storage.TimeRange{Start: 100}); sets != nil {
		t.Errorf("no spans in range: %v", sets)
	}
}
