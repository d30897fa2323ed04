package traceql_test

import (
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	. "github.com/clew-tracing/clew/internal/traceql"
)

// Tree builders for the expected ASTs (positions are ignored).
func filter(e FieldExpr) *SpansetFilter { return &SpansetFilter{Expr: e} }
func bin(op BinaryOp, l, r FieldExpr) *BinaryExpr {
	return &BinaryExpr{Op: op, LHS: l, RHS: r}
}
func attr(scope AttributeScope, name string) *Attribute { return &Attribute{Scope: scope, Name: name} }
func intrinsic(i Intrinsic, spelling string) *IntrinsicField {
	return &IntrinsicField{Intrinsic: i, Spelling: spelling}
}
func lit(v Value) *Static { return &Static{Value: v} }
func sop(op SpansetOp, l, r SpansetExpr) *SpansetOperation {
	return &SpansetOperation{Op: op, LHS: l, RHS: r}
}
func pipe(stages ...Stage) *Pipeline { return &Pipeline{Stages: stages} }
func query(stages ...Stage) *Query   { return &Query{Pipeline: pipe(stages...)} }

func TestParseTree(t *testing.T) {
	a, b, c := attr(ScopeNone, "a"), attr(ScopeSpan, "b"), attr(ScopeResource, "c")
	one, two := lit(IntValue(1)), lit(IntValue(2))
	f := func(src string, want *Query) {
		t.Helper()
		got, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if g, w := stripPositions(got), stripPositions(want); g != w {
			t.Errorf("Parse(%q):\n got %s\nwant %s", src, g, w)
		}
	}
	f("{ }", query(filter(nil)))
	f("{ .a = 1 }", query(filter(bin(OpEq, a, one))))
	f(`{ span.b =~ "x" }`, query(filter(bin(OpRe, b, lit(StringValue("x"))))))
	f("{ .a = 1 && span.b = 2 || resource.c = 1 }",
		query(filter(bin(OpOr, bin(OpAnd, bin(OpEq, a, one), bin(OpEq, b, two)), bin(OpEq, c, one)))))
	f("{ .a + span.b * 2 > 1 }", query(filter(bin(OpGt, bin(OpAdd, a, bin(OpMul, b, two)), one))))
	f("{ .a ^ span.b ^ 2 = 1 }", query(filter(bin(OpEq, bin(OpPow, a, bin(OpPow, b, two)), one))))
	f("{ !(.a = 1) }", query(filter(&UnaryExpr{Op: OpNot, X: bin(OpEq, a, one)})))
	f("{ .a = -1.5 }", query(filter(bin(OpEq, a, lit(FloatValue(-1.5))))))
	f("{ duration > 1.5s }", query(filter(bin(OpGt, intrinsic(IntrinsicDuration, "duration"), lit(Value{Type: TypeDuration, Int: 1.5e9})))))
	f("{ span:status = error && kind = server }", query(filter(bin(OpAnd,
		bin(OpEq, intrinsic(IntrinsicStatus, "span:status"), lit(StatusValue(model.StatusError))),
		bin(OpEq, intrinsic(IntrinsicKind, "kind"), lit(KindValue(model.KindServer)))))))
	f(`{ parent.resource."a b" != nil }`, query(filter(bin(OpNeq, &Attribute{Scope: ScopeResource, Parent: true, Name: "a b"}, lit(Nil)))))
	f("{ .a } && { .a } > { .a }", query(sop(SpansetAnd, filter(a), sop(SpansetChild, filter(a), filter(a)))))
	f("{ .a } !~ { .a } &>> { .a }", query(sop(SpansetUnionDesc, sop(SpansetNotSibling, filter(a), filter(a)), filter(a))))
	f("({ .a } | count() > 1) || { .a }", query(sop(SpansetOr,
		&PipelineExpr{Pipeline: pipe(filter(a), &ScalarFilter{Op: OpGt, LHS: &Aggregate{Func: AggCount}, RHS: one})}, filter(a))))
	f("{ } | by(.a) | avg(duration) >= 2 * min(duration) | select(span.b) | coalesce()", query(filter(nil),
		&GroupBy{Expr: a},
		&ScalarFilter{Op: OpGte, LHS: &Aggregate{Func: AggAvg, Arg: intrinsic(IntrinsicDuration, "duration")},
			RHS: &ScalarBinaryExpr{Op: OpMul, LHS: two, RHS: &Aggregate{Func: AggMin, Arg: intrinsic(IntrinsicDuration, "duration")}}},
		&Select{Exprs: []FieldExpr{b}}, &Coalesce{}))
	mq := query(filter(nil))
	mq.Metrics = &MetricsAggregate{Func: MetricsQuantileOverTime, Arg: intrinsic(IntrinsicDuration, "duration"),
		Params: []*Static{lit(FloatValue(0.5)), lit(FloatValue(0.99))}, By: []FieldExpr{c, intrinsic(IntrinsicName, "name")}}
	mq.SecondStage = []*SecondStage{{Func: SecondTopK, N: 3}}
	mq.Hints = &Hints{Hints: []*Hint{{Name: "exemplars", Value: lit(BoolValue(true))}}}
	f("{ } | quantile_over_time(duration, .5, 0.99) by (resource.c, name) | topk(3) with (exemplars=true)", mq)
}

func TestParsePositions(t *testing.T) {
	src := `{ .a = "x" } >> { duration > 1s } | count() > 2`
	q, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Inspect(q, func(n Node) bool {
		if n != nil {
			r := n.PositionRange()
			got = append(got, src[r.Start:r.End])
		}
		return true
	})
	want := []string{
		src, src, `{ .a = "x" } >> { duration > 1s }`,
		`{ .a = "x" }`, `.a = "x"`, `.a`, `"x"`,
		`{ duration > 1s }`, `duration > 1s`, `duration`, `1s`,
		`count() > 2`, `count()`, `2`,
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("node texts:\n got %q\nwant %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	f := func(src string, kind ErrorKind, line, col int, msg string) {
		t.Helper()
		_, err := Parse(src)
		e, ok := AsError(err)
		if !ok {
			t.Fatalf("Parse(%q) = %v, want an *Error", src, err)
		}
		if e.Kind != kind || e.Line != line || e.Column != col || !strings.Contains(e.Error(), msg) {
			t.Errorf("Parse(%q) = %v (kind %v at %d:%d), want %v at %d:%d containing %q", src, e, e.Kind, e.Line, e.Column, kind, line, col, msg)
		}
	}
	f("{ .a = }", SyntaxError, 1, 8, `unexpected "}"; expected an attribute, an intrinsic, a value or "("`)
	f("{ .a = 1 }\n&& { name = }", SyntaxError, 2, 13, `unexpected "}"`)
	f("{ é = 1 }", SyntaxError, 1, 3, `unknown identifier "é"`)
	f("{ .x = 1 } && { é = 1 }", SyntaxError, 1, 17, `unknown identifier "é"`)
	f("{ name = 1 }", ValidationError, 1, 3, "cannot compare a string with an int")
	f(`{ .a =~ "(" }`, ValidationError, 1, 9, "bad regular expression")
	f("{ } | rate() | topk(0)", ValidationError, 1, 16, "positive count")
	f("{ } | compare({ })", UnsupportedError, 1, 7, "compare() is not supported")
	f(strings.Repeat("(", 300)+"{ }"+strings.Repeat(")", 300), SyntaxError, 1, 201, "nests deeper")
	f(strings.Repeat(" ", MaxQueryLength+1), SyntaxError, 1, 1, "longer than")
}

func TestParseSyntaxKeepsInvalidTrees(t *testing.T) {
	q, err := ParseSyntax("{ name = 1 }")
	if err != nil || q.String() != "{ name = 1 }" {
		t.Fatalf("ParseSyntax: %v, %v", q, err)
	}
	if err := Validate(q); err == nil {
		t.Error("Validate accepted a string compared with a number")
	}
}

func TestQueryHint(t *testing.T) {
	q, err := Parse("{ } with (most_recent=true, span_sample=0.5)")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := q.Hint("most_recent"); !ok || !v.Bool() {
		t.Errorf("most_recent = %v, %v", v, ok)
	}
	if v, ok := q.Hint("span_sample"); !ok || v.Float != 0.5 {
		t.Errorf("span_sample = %v, %v", v, ok)
	}
	if _, ok := q.Hint("nope"); ok {
		t.Error("unknown hint found")
	}
}
