package eval

import (
	"math"
	"regexp"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/traceql"
)

// binding is what a field expression is evaluated against: a span and,
// for event and link fields, one of its events and one of its links (nil
// when the span has none).
type binding struct {
	trace *Trace
	span  *Span
	event *model.Event
	link  *model.Link
}

// fieldEval evaluates field expressions. Regular expressions are compiled
// once per query.
type fieldEval struct {
	regexes map[*traceql.BinaryExpr]*regexp.Regexp
}

// compileRegexes compiles the regular expressions of every =~ and !~ in n,
// fully anchored as TraceQL wants.
func (f *fieldEval) compileRegexes(n traceql.Node) error {
	var err error
	traceql.Inspect(n, func(n traceql.Node) bool {
		b, ok := n.(*traceql.BinaryExpr)
		if !ok || (b.Op != traceql.OpRe && b.Op != traceql.OpNre) || err != nil {
			return err == nil
		}
		s, ok := b.RHS.(*traceql.Static)
		if !ok {
			return true
		}
		re, e := regexp.Compile("^(?:" + s.Str + ")$")
		if e != nil {
			err = e
			return false
		}
		if f.regexes == nil {
			f.regexes = map[*traceql.BinaryExpr]*regexp.Regexp{}
		}
		f.regexes[b] = re
		return true
	})
	return err
}

// truthy is how a filter reads a value: a boolean is itself, any other
// value counts as true when present. So { .retry } keeps spans whose
// retry attribute is set and not false.
func truthy(v traceql.Value) bool {
	if v.Type == traceql.TypeBool {
		return v.Int != 0
	}
	return !v.IsNil()
}

// value evaluates e.
func (f *fieldEval) value(e traceql.FieldExpr, b *binding) traceql.Value {
	switch e := e.(type) {
	case *traceql.Static:
		return e.Value
	case *traceql.Attribute:
		return attribute(e, b)
	case *traceql.IntrinsicField:
		return intrinsic(e.Intrinsic, b)
	case *traceql.UnaryExpr:
		x := f.value(e.X, b)
		if e.Op == traceql.OpNot {
			return traceql.BoolValue(!truthy(x))
		}
		switch x.Type {
		case traceql.TypeInt, traceql.TypeDuration:
			x.Int = -x.Int
			return x
		case traceql.TypeFloat:
			x.Float = -x.Float
			return x
		}
		return traceql.Nil
	case *traceql.BinaryExpr:
		switch e.Op {
		case traceql.OpAnd:
			return traceql.BoolValue(truthy(f.value(e.LHS, b)) && truthy(f.value(e.RHS, b)))
		case traceql.OpOr:
			return traceql.BoolValue(truthy(f.value(e.LHS, b)) || truthy(f.value(e.RHS, b)))
		case traceql.OpRe, traceql.OpNre:
			l := f.value(e.LHS, b)
			re := f.regexes[e]
			if l.Type != traceql.TypeString || re == nil {
				return traceql.BoolValue(false)
			}
			return traceql.BoolValue(re.MatchString(l.Str) == (e.Op == traceql.OpRe))
		}
		l, r := f.value(e.LHS, b), f.value(e.RHS, b)
		if e.Op.IsComparison() {
			if isNilLiteral(e.LHS) || isNilLiteral(e.RHS) {
				// x = nil tests absence, x != nil presence.
				switch e.Op {
				case traceql.OpEq:
					return traceql.BoolValue(l.IsNil() && r.IsNil())
				case traceql.OpNeq:
					return traceql.BoolValue(l.IsNil() != r.IsNil())
				}
				return traceql.BoolValue(false)
			}
			return traceql.BoolValue(Compare(e.Op, l, r))
		}
		return Arithmetic(e.Op, l, r)
	}
	return traceql.Nil
}

// attribute looks an attribute up in its scope: the unscoped .x is the
// span's attribute, or the resource's when the span has none.
func attribute(a *traceql.Attribute, b *binding) traceql.Value {
	s := b.span
	if a.Parent {
		if s.Parent == nil {
			return traceql.Nil
		}
		s = s.Parent
	}
	find := func(kvs []model.KeyValue) (traceql.Value, bool) {
		for i := range kvs {
			if kvs[i].Key == a.Name {
				return traceql.FromModel(kvs[i].Value), true
			}
		}
		return traceql.Nil, false
	}
	switch a.Scope {
	case traceql.ScopeNone:
		if v, ok := find(s.Attributes); ok {
			return v
		}
		if s.Resource != nil {
			v, _ := find(s.Resource.Attributes)
			return v
		}
	case traceql.ScopeSpan:
		v, _ := find(s.Attributes)
		return v
	case traceql.ScopeResource:
		if s.Resource != nil {
			v, _ := find(s.Resource.Attributes)
			return v
		}
	case traceql.ScopeInstrumentation:
		if s.Scope != nil {
			v, _ := find(s.Scope.Attributes)
			return v
		}
	case traceql.ScopeEvent:
		if b.event != nil && !a.Parent {
			v, _ := find(b.event.Attributes)
			return v
		}
	case traceql.ScopeLink:
		if b.link != nil && !a.Parent {
			v, _ := find(b.link.Attributes)
			return v
		}
	}
	return traceql.Nil
}

// intrinsic returns an intrinsic of the bound span (or trace, event, link).
func intrinsic(in traceql.Intrinsic, b *binding) traceql.Value {
	s := b.span
	switch in {
	case traceql.IntrinsicName:
		return traceql.StringValue(s.Name)
	case traceql.IntrinsicStatus:
		return traceql.StatusValue(s.StatusCode)
	case traceql.IntrinsicStatusMessage:
		return traceql.StringValue(s.StatusMessage)
	case traceql.IntrinsicDuration:
		return traceql.Value{Type: traceql.TypeDuration, Int: int64(s.Duration())}
	case traceql.IntrinsicKind:
		return traceql.KindValue(s.Kind)
	case traceql.IntrinsicChildCount:
		return traceql.IntValue(int64(len(s.Children)))
	case traceql.IntrinsicSpanID:
		return traceql.StringValue(s.SpanID.String())
	case traceql.IntrinsicParentID:
		if s.ParentSpanID.IsZero() {
			return traceql.Nil
		}
		return traceql.StringValue(s.ParentSpanID.String())
	case traceql.IntrinsicTraceRootName:
		if b.trace.Root == nil {
			return traceql.Nil
		}
		return traceql.StringValue(b.trace.Root.Name)
	case traceql.IntrinsicTraceRootService:
		if b.trace.Root == nil {
			return traceql.Nil
		}
		return traceql.StringValue(b.trace.Root.Service())
	case traceql.IntrinsicTraceDuration:
		return traceql.Value{Type: traceql.TypeDuration, Int: int64(b.trace.End - b.trace.Start)}
	case traceql.IntrinsicTraceID:
		return traceql.StringValue(b.trace.ID.String())
	case traceql.IntrinsicEventName:
		if b.event == nil {
			return traceql.Nil
		}
		return traceql.StringValue(b.event.Name)
	case traceql.IntrinsicEventTimeSinceStart:
		if b.event == nil {
			return traceql.Nil
		}
		return traceql.Value{Type: traceql.TypeDuration, Int: int64(b.event.TimeUnixNano) - int64(s.StartUnixNano)}
	case traceql.IntrinsicLinkSpanID:
		if b.link == nil {
			return traceql.Nil
		}
		return traceql.StringValue(b.link.SpanID.String())
	case traceql.IntrinsicLinkTraceID:
		if b.link == nil {
			return traceql.Nil
		}
		return traceql.StringValue(b.link.TraceID.String())
	case traceql.IntrinsicInstrumentationName:
		if s.Scope == nil {
			return traceql.Nil
		}
		return traceql.StringValue(s.Scope.Name)
	case traceql.IntrinsicInstrumentationVersion:
		if s.Scope == nil {
			return traceql.Nil
		}
		return traceql.StringValue(s.Scope.Version)
	case traceql.IntrinsicNestedSetLeft:
		return traceql.IntValue(int64(s.Left))
	case traceql.IntrinsicNestedSetRight:
		return traceql.IntValue(int64(s.Right))
	case traceql.IntrinsicNestedSetParent:
		if s.Parent == nil {
			return traceql.IntValue(-1)
		}
		return traceql.IntValue(int64(s.Parent.Left))
	}
	return traceql.Nil
}

func isNilLiteral(e traceql.FieldExpr) bool {
	s, ok := e.(*traceql.Static)
	return ok && s.Type == traceql.TypeNil
}

// Compare applies a comparison operator other than =~ and !~ to two
// values (the literal nil is handled before: x = nil tests absence).
//
// A nil value (a missing attribute) makes every comparison false, !=
// included: { span.x != "a" } does not match spans without x. Numbers
// (ints, floats, durations) compare by value, ints exactly; strings
// lexicographically; bools, statuses and kinds only for equality. Values
// of different types are neither equal nor unequal: every comparison
// between them is false, so { span.code != "200" } does not match a span
// whose code is the integer 200.
func Compare(op traceql.BinaryOp, l, r traceql.Value) bool {
	if l.IsNil() || r.IsNil() {
		return false
	}
	var c int
	switch {
	case isInt(l.Type) && isInt(r.Type):
		c = cmpInt(l.Int, r.Int)
	case l.Type.IsNumeric() && r.Type.IsNumeric():
		x, _ := l.Number()
		y, _ := r.Number()
		if math.IsNaN(x) || math.IsNaN(y) {
			return op == traceql.OpNeq
		}
		c = cmpFloat(x, y)
	case l.Type == traceql.TypeString && r.Type == traceql.TypeString:
		c = strings.Compare(l.Str, r.Str)
	case l.Type == r.Type: // bool, status, kind
		if op != traceql.OpEq && op != traceql.OpNeq {
			return false
		}
		c = cmpInt(l.Int, r.Int)
	default:
		return false
	}
	switch op {
	case traceql.OpEq:
		return c == 0
	case traceql.OpNeq:
		return c != 0
	case traceql.OpGt:
		return c > 0
	case traceql.OpGte:
		return c >= 0
	case traceql.OpLt:
		return c < 0
	case traceql.OpLte:
		return c <= 0
	}
	return false
}

func isInt(t traceql.Type) bool { return t == traceql.TypeInt || t == traceql.TypeDuration }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Arithmetic applies + - * / % or ^ to numbers; anything else gives nil.
// Division and powers give floats; otherwise two ints give an int, a
// duration makes the result a duration, and a float makes it a float.
// Integer division or remainder by zero gives nil.
func Arithmetic(op traceql.BinaryOp, l, r traceql.Value) traceql.Value {
	if !l.Type.IsNumeric() || !r.Type.IsNumeric() {
		return traceql.Nil
	}
	x, _ := l.Number()
	y, _ := r.Number()
	switch op {
	case traceql.OpDiv:
		return traceql.FloatValue(x / y)
	case traceql.OpPow:
		return traceql.FloatValue(math.Pow(x, y))
	}
	if isInt(l.Type) && isInt(r.Type) {
		t := traceql.TypeInt
		if l.Type == traceql.TypeDuration || r.Type == traceql.TypeDuration {
			t = traceql.TypeDuration
		}
		var v int64
		switch op {
		case traceql.OpAdd:
			v = l.Int + r.Int
		case traceql.OpSub:
			v = l.Int - r.Int
		case traceql.OpMul:
			v = l.Int * r.Int
		case traceql.OpMod:
			if r.Int == 0 {
				return traceql.Nil
			}
			v = l.Int % r.Int
		}
		return traceql.Value{Type: t, Int: v}
	}
	var v float64
	switch op {
	case traceql.OpAdd:
		v = x + y
	case traceql.OpSub:
		v = x - y
	case traceql.OpMul:
		v = x * y
	case traceql.OpMod:
		v = math.Mod(x, y)
	}
	return traceql.FloatValue(v)
}
