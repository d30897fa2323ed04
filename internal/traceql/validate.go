package traceql

import (
	"fmt"
	"regexp"
)

// Validate checks that a parsed query can be evaluated: operand types
// agree, filters are boolean, regular expressions compile, functions get
// the arguments they need. Errors are [*Error] values of kind
// [ValidationError] pointing at the offending node.
func Validate(q *Query) error {
	v := &validator{src: q.src}
	v.query(q)
	return v.err
}

type validator struct {
	src string
	err error
}

func (v *validator) fail(n Node, format string, args ...any) {
	if v.err == nil {
		v.err = newError(ValidationError, v.src, n.PositionRange(), fmt.Sprintf(format, args...))
	}
}

func (v *validator) query(q *Query) {
	v.pipeline(q.Pipeline)
	if m := q.Metrics; m != nil {
		f := m.Func.Function()
		if f.Arg == ArgNumeric || f.Arg == ArgQuantiles {
			v.numericArg(m, m.Arg, m.Func.String())
		}
		if f.Arg == ArgQuantiles {
			if len(m.Params) == 0 {
				v.fail(m, "%s() needs at least one quantile", m.Func)
			}
			for _, p := range m.Params {
				x, _ := p.Number()
				if x < 0 || x > 1 {
					v.fail(p, "quantile %s is not between 0 and 1", p)
				}
			}
		}
		for _, e := range m.By {
			v.fieldRef(e, "by")
		}
	}
	for _, s := range q.SecondStage {
		if s.N <= 0 {
			v.fail(s, "%s() needs a positive count", s.Func)
		}
	}
	if len(q.SecondStage) > 0 && q.Metrics == nil {
		v.fail(q.SecondStage[0], "%s() applies to a metrics query", q.SecondStage[0].Func)
	}
	if q.Hints != nil {
		seen := map[string]bool{}
		for _, h := range q.Hints.Hints {
			if seen[h.Name] {
				v.fail(h, "hint %s given twice", h.Name)
			}
			seen[h.Name] = true
			if boolHints[h.Name] && h.Value.Type != TypeBool {
				v.fail(h.Value, "hint %s takes true or false", h.Name)
			}
		}
	}
}

// boolHints are the hints Clew acts on whose value is a boolean.
var boolHints = map[string]bool{"most_recent": true, "exemplars": true}

func (v *validator) pipeline(p *Pipeline) {
	for _, s := range p.Stages {
		v.stage(s)
	}
}

func (v *validator) stage(s Stage) {
	switch s := s.(type) {
	case *SpansetFilter:
		if s.Expr == nil {
			return
		}
		t := v.field(s.Expr)
		if t != TypeBool && t != TypeAttribute {
			v.fail(s.Expr, "a spanset filter must be a condition, not %s", a(t))
		}
	case *SpansetOperation:
		v.stage(s.LHS)
		v.stage(s.RHS)
	case *PipelineExpr:
		v.pipeline(s.Pipeline)
	case *ScalarFilter:
		v.scalar(s.LHS)
		v.scalar(s.RHS)
	case *GroupBy:
		v.field(s.Expr)
	case *Select:
		for _, e := range s.Exprs {
			v.fieldRef(e, "select")
		}
	}
}

// fieldRef checks an argument that must name a field: by (...) of a
// metrics function and select().
func (v *validator) fieldRef(e FieldExpr, fn string) {
	switch e.(type) {
	case *Attribute, *IntrinsicField:
	default:
		v.fail(e, "%s() takes attributes and intrinsics, not %s", fn, e)
	}
}

func (v *validator) numericArg(n Node, e FieldExpr, fn string) {
	if e == nil {
		v.fail(n, "%s() needs a field", fn)
		return
	}
	if t := v.field(e); !t.IsNumeric() && t != TypeAttribute {
		v.fail(e, "%s() needs a numeric field, not %s", fn, a(t))
	}
}

func (v *validator) scalar(e ScalarExpr) {
	switch e := e.(type) {
	case *Aggregate:
		if e.Func != AggCount {
			v.numericArg(e, e.Arg, e.Func.String())
		}
	case *ScalarBinaryExpr:
		v.scalar(e.LHS)
		v.scalar(e.RHS)
	case *Static:
		if !e.Type.IsNumeric() {
			v.fail(e, "%s is not a number", e)
		}
	}
}

// field returns the type of a field expression, recording the first
// error found in it.
func (v *validator) field(e FieldExpr) Type {
	switch e := e.(type) {
	case *Static:
		return e.Type
	case *Attribute:
		return TypeAttribute
	case *IntrinsicField:
		return e.Intrinsic.Type()
	case *UnaryExpr:
		t := v.field(e.X)
		switch e.Op {
		case OpNot:
			if t != TypeBool && t != TypeAttribute {
				v.fail(e, "! needs a condition, not %s", a(t))
			}
			return TypeBool
		default:
			if !t.IsNumeric() && t != TypeAttribute {
				v.fail(e, "- needs a number, not %s", a(t))
			}
			if t == TypeAttribute {
				return TypeFloat
			}
			return t
		}
	case *BinaryExpr:
		return v.binary(e)
	}
	return TypeNil
}

func (v *validator) binary(e *BinaryExpr) Type {
	l, r := v.field(e.LHS), v.field(e.RHS)
	known := func(t Type) bool { return t != TypeAttribute }
	switch {
	case e.Op.IsLogical():
		for _, t := range []Type{l, r} {
			if t != TypeBool && t != TypeAttribute {
				v.fail(e, "%s needs conditions on both sides, not %s", e.Op, a(t))
			}
		}
		return TypeBool
	case e.Op == OpRe || e.Op == OpNre:
		if known(l) && l != TypeString {
			v.fail(e.LHS, "%s matches strings, not %s", e.Op, a(l))
		}
		s, ok := e.RHS.(*Static)
		if !ok || s.Type != TypeString {
			v.fail(e.RHS, "%s needs a string literal holding a regular expression", e.Op)
			return TypeBool
		}
		if _, err := regexp.Compile(s.Str); err != nil {
			v.fail(e.RHS, "bad regular expression: %v", err)
		}
		return TypeBool
	case e.Op.IsComparison():
		if !comparable(l, r) {
			v.fail(e, "cannot compare %s with %s", a(l), a(r))
		}
		if e.Op != OpEq && e.Op != OpNeq {
			for _, t := range []Type{l, r} {
				if t == TypeNil || t == TypeBool || t == TypeStatus || t == TypeKind {
					v.fail(e, "%s cannot order %s", e.Op, a(t))
				}
			}
		}
		return TypeBool
	case e.Op.IsArithmetic():
		for _, t := range []Type{l, r} {
			if !t.IsNumeric() && t != TypeAttribute {
				v.fail(e, "%s needs numbers, not %s", e.Op, a(t))
			}
		}
		switch {
		case l == TypeAttribute || r == TypeAttribute, l == TypeFloat || r == TypeFloat:
			return TypeFloat
		case l == TypeDuration || r == TypeDuration:
			return TypeDuration
		}
		return TypeInt
	}
	return TypeNil
}

// comparable reports whether values of types a and b can be compared: the
// same type, two numbers, nil with anything (existence), or an attribute
// (whose type is known only per span).
func comparable(a, b Type) bool {
	switch {
	case a == TypeAttribute || b == TypeAttribute, a == TypeNil || b == TypeNil:
		return true
	case a.IsNumeric() && b.IsNumeric():
		return true
	}
	return a == b
}

// a returns the type with its indefinite article, for messages.
func a(t Type) string {
	switch t {
	case TypeInt, TypeAttribute:
		return "an " + t.String()
	case TypeNil:
		return "nil"
	}
	return "a " + t.String()
}
