package traceql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The String methods print a tree back as TraceQL. The output parses to an
// equal tree (positions aside): parentheses are added exactly where
// precedence needs them, literals print in a form the lexer reads back,
// and intrinsics keep the spelling they were written with.

// String prints the node as TraceQL.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString(q.Pipeline.String())
	if q.Metrics != nil {
		b.WriteString(" | ")
		b.WriteString(q.Metrics.String())
	}
	for _, s := range q.SecondStage {
		b.WriteString(" | ")
		b.WriteString(s.String())
	}
	if q.Hints != nil {
		b.WriteByte(' ')
		b.WriteString(q.Hints.String())
	}
	return b.String()
}

// String prints the node as TraceQL.
func (p *Pipeline) String() string {
	parts := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		parts[i] = s.String()
	}
	return strings.Join(parts, " | ")
}

// String prints the node as TraceQL.
func (f *SpansetFilter) String() string {
	if f.Expr == nil {
		return "{ }"
	}
	return "{ " + f.Expr.String() + " }"
}

// spansetPrec is the binding strength of a spanset operator.
func spansetPrec(op SpansetOp) int {
	switch op {
	case SpansetOr:
		return 1
	case SpansetAnd:
		return 2
	}
	return 3
}

func spansetExprPrec(e SpansetExpr) int {
	if o, ok := e.(*SpansetOperation); ok {
		return spansetPrec(o.Op)
	}
	return 4
}

// String prints the node as TraceQL.
func (o *SpansetOperation) String() string {
	p := spansetPrec(o.Op)
	lhs, rhs := o.LHS.String(), o.RHS.String()
	if spansetExprPrec(o.LHS) < p {
		lhs = "(" + lhs + ")"
	}
	if spansetExprPrec(o.RHS) <= p {
		rhs = "(" + rhs + ")"
	}
	return lhs + " " + o.Op.String() + " " + rhs
}

// String prints the node as TraceQL.
func (e *PipelineExpr) String() string { return "(" + e.Pipeline.String() + ")" }

// String prints the node as TraceQL.
func (f *ScalarFilter) String() string {
	return printScalar(f.LHS, 0, false) + " " + f.Op.String() + " " + printScalar(f.RHS, 0, false)
}

// String prints the node as TraceQL.
func (a *Aggregate) String() string {
	if a.Arg == nil {
		return a.Func.String() + "()"
	}
	return a.Func.String() + "(" + a.Arg.String() + ")"
}

// String prints the node as TraceQL.
func (e *ScalarBinaryExpr) String() string {
	p := binaryPrec(e.Op)
	right := e.Op == OpPow
	return printScalar(e.LHS, p, right) + " " + e.Op.String() + " " + printScalar(e.RHS, p, !right)
}

// printScalar prints a scalar operand of an operator of precedence p;
// strict says an operand of equal precedence needs parentheses (the
// right side of a left-associative operator and vice versa).
func printScalar(e ScalarExpr, p int, strict bool) string {
	s := e.String()
	if b, ok := e.(*ScalarBinaryExpr); ok {
		if q := binaryPrec(b.Op); q < p || (q == p && strict) {
			return "(" + s + ")"
		}
	}
	return s
}

// String prints the node as TraceQL.
func (g *GroupBy) String() string { return "by(" + g.Expr.String() + ")" }

// String prints the node as TraceQL.
func (s *Select) String() string { return "select(" + joinFields(s.Exprs) + ")" }

func (*Coalesce) String() string { return "coalesce()" }

func joinFields(es []FieldExpr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// String prints the node as TraceQL.
func (m *MetricsAggregate) String() string {
	var b strings.Builder
	b.WriteString(m.Func.String())
	b.WriteByte('(')
	if m.Arg != nil {
		b.WriteString(m.Arg.String())
	}
	for i, p := range m.Params {
		if i > 0 || m.Arg != nil {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteByte(')')
	if len(m.By) > 0 {
		b.WriteString(" by (")
		b.WriteString(joinFields(m.By))
		b.WriteByte(')')
	}
	return b.String()
}

// String prints the node as TraceQL.
func (s *SecondStage) String() string { return s.Func.String() + "(" + strconv.Itoa(s.N) + ")" }

// String prints the node as TraceQL.
func (h *Hints) String() string {
	parts := make([]string, len(h.Hints))
	for i, x := range h.Hints {
		parts[i] = x.String()
	}
	return "with (" + strings.Join(parts, ", ") + ")"
}

// String prints the node as TraceQL.
func (h *Hint) String() string { return h.Name + "=" + h.Value.String() }

// binaryPrec is the binding strength of a field or scalar operator.
func binaryPrec(op BinaryOp) int {
	switch {
	case op == OpOr:
		return 1
	case op == OpAnd:
		return 2
	case op.IsComparison():
		return 3
	case op == OpAdd || op == OpSub:
		return 4
	case op == OpMul || op == OpDiv || op == OpMod:
		return 5
	case op == OpPow:
		return 6
	}
	return 0
}

// String prints the node as TraceQL.
func (e *BinaryExpr) String() string {
	p := binaryPrec(e.Op)
	right := e.Op == OpPow
	return printField(e.LHS, p, right) + " " + e.Op.String() + " " + printField(e.RHS, p, !right)
}

func printField(e FieldExpr, p int, strict bool) string {
	s := e.String()
	if b, ok := e.(*BinaryExpr); ok {
		if q := binaryPrec(b.Op); q < p || (q == p && strict) {
			return "(" + s + ")"
		}
	}
	return s
}

// String prints the node as TraceQL.
func (e *UnaryExpr) String() string {
	x := e.X.String()
	if _, ok := e.X.(*BinaryExpr); ok {
		x = "(" + x + ")"
	}
	if e.Op == OpNeg {
		// "-" before a negative literal or another "-" must not merge
		// into something else; a space keeps them apart.
		if strings.HasPrefix(x, "-") {
			x = "(" + x + ")"
		}
	}
	return e.Op.String() + x
}

// String prints the node as TraceQL.
func (s *Static) String() string { return s.Value.String() }

// String prints the node as TraceQL.
func (a *Attribute) String() string {
	var b strings.Builder
	if a.Parent {
		b.WriteString("parent.")
	}
	if a.Scope != ScopeNone {
		b.WriteString(a.Scope.String())
		b.WriteByte('.')
	} else if !a.Parent {
		b.WriteByte('.')
	}
	if needsQuoting(a) {
		b.WriteString(strconv.Quote(a.Name))
	} else {
		b.WriteString(a.Name)
	}
	return b.String()
}

// needsQuoting reports whether the attribute's name must be quoted to lex
// back as the same attribute.
func needsQuoting(a *Attribute) bool {
	if a.Name == "" {
		return true
	}
	for _, r := range a.Name {
		if isNameTerminator(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	first, _ := utf8.DecodeRuneInString(a.Name)
	if a.Scope == ScopeNone && !a.Parent && first >= '0' && first <= '9' {
		return true // .5 would lex as a number
	}
	if a.Parent && a.Scope == ScopeNone && (strings.HasPrefix(a.Name, "span.") || strings.HasPrefix(a.Name, "resource.")) {
		return true // parent.span.x is the parent's span attribute x
	}
	return false
}

// String prints the node as TraceQL.
func (f *IntrinsicField) String() string {
	if f.Spelling != "" {
		return f.Spelling
	}
	return f.Intrinsic.String()
}
