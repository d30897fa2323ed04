package traceql

import (
	"fmt"
	"strconv"

	"github.com/clew-tracing/clew/internal/model"
)

// MaxQueryLength bounds the text Parse accepts, so that a request cannot
// make the parser build an enormous tree.
const MaxQueryLength = 64 << 10

// maxDepth bounds nesting (parentheses, unary operators), so that
// recursion stays shallow whatever the input.
const maxDepth = 200

// Parse parses and validates a query. The error, if any, is an [*Error]
// with the position of the problem.
func Parse(query string) (*Query, error) {
	q, err := ParseSyntax(query)
	if err != nil {
		return nil, err
	}
	if err := Validate(q); err != nil {
		return nil, err
	}
	return q, nil
}

// ParseSyntax parses a query without validating it: the tree may compare a
// string with a number. Use [Parse] unless you want to inspect such trees
// (autocomplete does).
func ParseSyntax(query string) (*Query, error) {
	if len(query) > MaxQueryLength {
		return nil, newError(SyntaxError, query, PositionRange{0, 0}, fmt.Sprintf("query is longer than %d bytes", MaxQueryLength))
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{src: query, toks: toks}
	return p.parseQuery()
}

// parser is a recursive-descent parser with precedence climbing for the
// two expression languages: spanset expressions ({a} && {b} > {c}) and
// field expressions (.a + 1 > 2 || name = "x").
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errorAt(r PositionRange, msg string, expected ...string) error {
	return newError(SyntaxError, p.src, r, msg, expected...)
}

// unexpected reports the current token as unexpected.
func (p *parser) unexpected(expected ...string) error {
	t := p.tok()
	return p.errorAt(PositionRange{t.pos, t.end}, "unexpected "+t.describe(), expected...)
}

func (p *parser) expect(typ tokenType) (token, error) {
	if p.tok().typ != typ {
		return token{}, p.unexpected(strconv.Quote(typ.String()))
	}
	return p.advance(), nil
}

func (p *parser) isIdent(word string) bool {
	t := p.tok()
	return t.typ == tokIdent && t.str == word
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		t := p.tok()
		return p.errorAt(PositionRange{t.pos, t.end}, fmt.Sprintf("query nests deeper than %d levels", maxDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseQuery parses a whole query:
//
//	query := pipeline [ "|" metrics { "|" secondStage } ] [ hints ] EOF
func (p *parser) parseQuery() (*Query, error) {
	q := &Query{src: p.src}
	start := p.tok().pos
	pl, err := p.parsePipeline(true)
	if err != nil {
		return nil, err
	}
	q.Pipeline = pl
	end := pl.Range.End
	if p.tok().typ == tokPipe && p.metricsAhead() {
		p.advance()
		m, err := p.parseMetrics()
		if err != nil {
			return nil, err
		}
		q.Metrics, end = m, m.Range.End
		for p.tok().typ == tokPipe {
			p.advance()
			s, err := p.parseSecondStage()
			if err != nil {
				return nil, err
			}
			q.SecondStage = append(q.SecondStage, s)
			end = s.Range.End
		}
	}
	if p.isIdent("with") {
		h, err := p.parseHints()
		if err != nil {
			return nil, err
		}
		q.Hints, end = h, h.Range.End
	}
	if p.tok().typ != tokEOF {
		if q.Hints != nil {
			return nil, p.unexpected("end of query")
		}
		return nil, p.unexpected(`"|"`, `"with"`, "end of query")
	}
	q.Range = PositionRange{start, end}
	return q, nil
}

// metricsAhead reports whether the token after the current "|" names a
// metrics function.
func (p *parser) metricsAhead() bool {
	t := p.peek(1)
	if t.typ != tokIdent {
		return false
	}
	f := Functions[t.str]
	return f != nil && f.Kind == FuncMetrics
}

// parsePipeline parses
//
//	pipeline := spansetExpr { "|" stage }
//
// stopping before a "|" that starts a metrics function when top is set.
func (p *parser) parsePipeline(top bool) (*Pipeline, error) {
	first, r, err := p.parseSpansetExpr(1)
	if err != nil {
		return nil, err
	}
	pl := &Pipeline{Stages: []Stage{first}}
	pl.Range = r
	for p.tok().typ == tokPipe {
		if p.metricsAhead() {
			if top {
				break
			}
			t := p.peek(1)
			return nil, p.errorAt(PositionRange{t.pos, t.end}, "metrics function "+t.str+"() must be the last stage of the whole query")
		}
		p.advance()
		s, sr, err := p.parseStage()
		if err != nil {
			return nil, err
		}
		pl.Stages = append(pl.Stages, s)
		pl.Range.End = sr.End
	}
	return pl, nil
}

// parseStage parses one pipeline stage after "|".
func (p *parser) parseStage() (Stage, PositionRange, error) {
	t := p.tok()
	switch t.typ {
	case tokLBrace:
		return p.parseSpansetExpr(1)
	case tokLParen:
		j := p.i
		for p.toks[j].typ == tokLParen {
			j++
		}
		if p.toks[j].typ == tokLBrace {
			return p.parseSpansetExpr(1)
		}
		return p.parseScalarFilter()
	case tokInt, tokFloat, tokDuration, tokSub:
		return p.parseScalarFilter()
	case tokIdent:
		f := Functions[t.str]
		if f != nil {
			switch f.Kind {
			case FuncAggregate:
				return p.parseScalarFilter()
			case FuncPipeline:
				return p.parsePipelineFunc(f)
			}
		}
	}
	return nil, PositionRange{}, p.unexpected(`a spanset filter "{ ... }"`, "an aggregate such as count()", "by()", "select()", "coalesce()")
}

// spansetOps maps tokens to the spanset operators they spell.
var spansetOps = map[tokenType]SpansetOp{
	tokAnd: SpansetAnd, tokOr: SpansetOr,
	tokGt: SpansetChild, tokLt: SpansetParent, tokDesc: SpansetDesc, tokAnce: SpansetAnce, tokSibl: SpansetSibling,
	tokNotChild: SpansetNotChild, tokNotPar: SpansetNotParent, tokNotDesc: SpansetNotDesc, tokNotAnce: SpansetNotAnce, tokNre: SpansetNotSibling,
	tokUChild: SpansetUnionChild, tokUPar: SpansetUnionParent, tokUDesc: SpansetUnionDesc, tokUAnce: SpansetUnionAnce, tokUSibl: SpansetUnionSibling,
}

// parseSpansetExpr parses spanset expressions joined by operators binding
// at least as tightly as minPrec (|| 1, && 2, structural 3). It returns
// the expression and its extent including any parentheses.
func (p *parser) parseSpansetExpr(minPrec int) (SpansetExpr, PositionRange, error) {
	if err := p.enter(); err != nil {
		return nil, PositionRange{}, err
	}
	defer p.leave()
	lhs, lr, err := p.parseSpansetPrimary()
	if err != nil {
		return nil, lr, err
	}
	for {
		op, ok := spansetOps[p.tok().typ]
		if !ok || spansetPrec(op) < minPrec {
			return lhs, lr, nil
		}
		p.advance()
		rhs, rr, err := p.parseSpansetExpr(spansetPrec(op) + 1)
		if err != nil {
			return nil, rr, err
		}
		o := &SpansetOperation{Op: op, LHS: lhs, RHS: rhs}
		o.Range = PositionRange{lr.Start, rr.End}
		lhs, lr = o, o.Range
	}
}

// parseSpansetPrimary parses { fieldExpr } or ( pipeline ).
func (p *parser) parseSpansetPrimary() (SpansetExpr, PositionRange, error) {
	t := p.tok()
	switch t.typ {
	case tokLBrace:
		p.advance()
		f := &SpansetFilter{}
		if p.tok().typ != tokRBrace {
			e, _, err := p.parseFieldExpr(1)
			if err != nil {
				return nil, PositionRange{}, err
			}
			f.Expr = e
		}
		if p.tok().typ != tokRBrace {
			return nil, PositionRange{}, p.unexpected(`"}"`, "an operator")
		}
		end := p.advance().end
		f.Range = PositionRange{t.pos, end}
		return f, f.Range, nil
	case tokLParen:
		p.advance()
		pl, err := p.parsePipeline(false)
		if err != nil {
			return nil, PositionRange{}, err
		}
		if p.tok().typ != tokRParen {
			return nil, PositionRange{}, p.unexpected(`")"`, "a spanset operator", `"|"`)
		}
		end := p.advance().end
		outer := PositionRange{t.pos, end}
		if len(pl.Stages) == 1 {
			return pl.Stages[0].(SpansetExpr), outer, nil
		}
		e := &PipelineExpr{Pipeline: pl}
		e.Range = outer
		return e, outer, nil
	}
	return nil, PositionRange{}, p.unexpected(`"{"`, `"("`)
}

// binaryOps maps tokens to the field and scalar operators they spell.
var binaryOps = map[tokenType]BinaryOp{
	tokOr: OpOr, tokAnd: OpAnd,
	tokEq: OpEq, tokNeq: OpNeq, tokRe: OpRe, tokNre: OpNre, tokGt: OpGt, tokGte: OpGte, tokLt: OpLt, tokLte: OpLte,
	tokAdd: OpAdd, tokSub: OpSub, tokMul: OpMul, tokDiv: OpDiv, tokMod: OpMod, tokPow: OpPow,
}

// parseFieldExpr parses a field expression whose operators bind at least
// as tightly as minPrec; ^ is right-associative, the rest left.
func (p *parser) parseFieldExpr(minPrec int) (FieldExpr, PositionRange, error) {
	if err := p.enter(); err != nil {
		return nil, PositionRange{}, err
	}
	defer p.leave()
	lhs, lr, err := p.parseUnary()
	if err != nil {
		return nil, lr, err
	}
	for {
		op, ok := binaryOps[p.tok().typ]
		if !ok || binaryPrec(op) < minPrec {
			return lhs, lr, nil
		}
		p.advance()
		next := binaryPrec(op) + 1
		if op == OpPow {
			next = binaryPrec(op)
		}
		rhs, rr, err := p.parseFieldExpr(next)
		if err != nil {
			return nil, rr, err
		}
		b := &BinaryExpr{Op: op, LHS: lhs, RHS: rhs}
		b.Range = PositionRange{lr.Start, rr.End}
		lhs, lr = b, b.Range
	}
}

// parseUnary parses ! and - prefixes; - on a number literal folds into it.
func (p *parser) parseUnary() (FieldExpr, PositionRange, error) {
	t := p.tok()
	if t.typ != tokNot && t.typ != tokSub {
		return p.parsePrimary()
	}
	if err := p.enter(); err != nil {
		return nil, PositionRange{}, err
	}
	defer p.leave()
	p.advance()
	x, xr, err := p.parseUnary()
	if err != nil {
		return nil, xr, err
	}
	r := PositionRange{t.pos, xr.End}
	if t.typ == tokSub {
		if s, ok := x.(*Static); ok && s.Type.IsNumeric() {
			s.negate()
			s.Range = r
			return s, r, nil
		}
	}
	op := OpNot
	if t.typ == tokSub {
		op = OpNeg
	}
	u := &UnaryExpr{Op: op, X: x}
	u.Range = r
	return u, r, nil
}

// keywordValues are the identifiers that are literals.
var keywordValues = map[string]Value{
	"true": BoolValue(true), "false": BoolValue(false), "nil": Nil,
	"ok": StatusValue(model.StatusOK), "error": StatusValue(model.StatusError), "unset": StatusValue(model.StatusUnset),
	"unspecified": KindValue(model.KindUnspecified), "internal": KindValue(model.KindInternal),
	"server": KindValue(model.KindServer), "client": KindValue(model.KindClient),
	"producer": KindValue(model.KindProducer), "consumer": KindValue(model.KindConsumer),
}

var fieldExpected = []string{"an attribute", "an intrinsic", "a value", `"("`}

// parsePrimary parses a literal, attribute, intrinsic or ( fieldExpr ).
func (p *parser) parsePrimary() (FieldExpr, PositionRange, error) {
	t := p.tok()
	r := PositionRange{t.pos, t.end}
	switch t.typ {
	case tokString, tokInt, tokFloat, tokDuration:
		p.advance()
		s := literal(t)
		return s, r, nil
	case tokAttribute:
		p.advance()
		a := t.attr
		a.Range = r
		return &a, r, nil
	case tokIntrinsic:
		in, ok := LookupIntrinsic(t.str)
		if !ok {
			return nil, r, p.errorAt(r, "unknown intrinsic "+t.str)
		}
		p.advance()
		f := &IntrinsicField{Intrinsic: in, Spelling: t.str}
		f.Range = r
		return f, r, nil
	case tokIdent:
		if v, ok := keywordValues[t.str]; ok {
			p.advance()
			s := &Static{Value: v}
			s.Range = r
			return s, r, nil
		}
		if in, ok := LookupIntrinsic(t.str); ok {
			p.advance()
			f := &IntrinsicField{Intrinsic: in, Spelling: t.str}
			f.Range = r
			return f, r, nil
		}
		if p.peek(1).typ == tokLParen {
			return nil, r, p.errorAt(r, "function "+t.str+"() is not allowed inside a spanset filter", fieldExpected...)
		}
		return nil, r, p.errorAt(r, "unknown identifier "+strconv.Quote(t.str), fieldExpected...)
	case tokLParen:
		p.advance()
		e, _, err := p.parseFieldExpr(1)
		if err != nil {
			return nil, r, err
		}
		if p.tok().typ != tokRParen {
			return nil, r, p.unexpected(`")"`, "an operator")
		}
		end := p.advance().end
		return e, PositionRange{t.pos, end}, nil
	}
	return nil, r, p.unexpected(fieldExpected...)
}

func literal(t token) *Static {
	s := &Static{}
	s.Range = PositionRange{t.pos, t.end}
	switch t.typ {
	case tokString:
		s.Value = StringValue(t.str)
	case tokInt:
		s.Value = IntValue(t.i)
	case tokFloat:
		s.Value = FloatValue(t.f)
	case tokDuration:
		s.Value = Value{Type: TypeDuration, Int: t.dur}
	}
	return s
}

// parseScalarFilter parses scalarExpr cmp scalarExpr.
func (p *parser) parseScalarFilter() (Stage, PositionRange, error) {
	lhs, lr, err := p.parseScalarExpr(4)
	if err != nil {
		return nil, lr, err
	}
	op, ok := binaryOps[p.tok().typ]
	if !ok || !op.IsComparison() || op == OpRe || op == OpNre {
		return nil, lr, p.unexpected("a comparison (= != > >= < <=)", "an arithmetic operator")
	}
	p.advance()
	rhs, rr, err := p.parseScalarExpr(4)
	if err != nil {
		return nil, rr, err
	}
	f := &ScalarFilter{Op: op, LHS: lhs, RHS: rhs}
	f.Range = PositionRange{lr.Start, rr.End}
	return f, f.Range, nil
}

// parseScalarExpr parses arithmetic (precedence 4 and up) on aggregates
// and number literals.
func (p *parser) parseScalarExpr(minPrec int) (ScalarExpr, PositionRange, error) {
	if err := p.enter(); err != nil {
		return nil, PositionRange{}, err
	}
	defer p.leave()
	lhs, lr, err := p.parseScalarPrimary()
	if err != nil {
		return nil, lr, err
	}
	for {
		op, ok := binaryOps[p.tok().typ]
		if !ok || !op.IsArithmetic() || binaryPrec(op) < minPrec {
			return lhs, lr, nil
		}
		p.advance()
		next := binaryPrec(op) + 1
		if op == OpPow {
			next = binaryPrec(op)
		}
		rhs, rr, err := p.parseScalarExpr(next)
		if err != nil {
			return nil, rr, err
		}
		b := &ScalarBinaryExpr{Op: op, LHS: lhs, RHS: rhs}
		b.Range = PositionRange{lr.Start, rr.End}
		lhs, lr = b, b.Range
	}
}

var scalarExpected = []string{"an aggregate such as count() or avg(duration)", "a number", "a duration"}

func (p *parser) parseScalarPrimary() (ScalarExpr, PositionRange, error) {
	t := p.tok()
	r := PositionRange{t.pos, t.end}
	switch t.typ {
	case tokInt, tokFloat, tokDuration:
		p.advance()
		return literal(t), r, nil
	case tokSub:
		p.advance()
		n := p.tok()
		if n.typ != tokInt && n.typ != tokFloat && n.typ != tokDuration {
			return nil, r, p.unexpected("a number", "a duration")
		}
		p.advance()
		s := literal(n)
		s.negate()
		s.Range = PositionRange{t.pos, n.end}
		return s, s.Range, nil
	case tokLParen:
		p.advance()
		e, _, err := p.parseScalarExpr(4)
		if err != nil {
			return nil, r, err
		}
		if p.tok().typ != tokRParen {
			return nil, r, p.unexpected(`")"`, "an arithmetic operator")
		}
		end := p.advance().end
		return e, PositionRange{t.pos, end}, nil
	case tokIdent:
		f := Functions[t.str]
		if f == nil || f.Kind != FuncAggregate {
			break
		}
		p.advance()
		if _, err := p.expect(tokLParen); err != nil {
			return nil, r, err
		}
		a := &Aggregate{Func: f.Agg}
		if f.Arg != ArgNone {
			if p.tok().typ == tokRParen {
				return nil, r, p.unexpected("a field to aggregate")
			}
			e, _, err := p.parseFieldExpr(1)
			if err != nil {
				return nil, r, err
			}
			a.Arg = e
		}
		end, err := p.expect(tokRParen)
		if err != nil {
			return nil, r, err
		}
		a.Range = PositionRange{t.pos, end.end}
		return a, a.Range, nil
	}
	return nil, r, p.unexpected(scalarExpected...)
}

// parsePipelineFunc parses by(x), select(x, ...) or coalesce().
func (p *parser) parsePipelineFunc(f *Function) (Stage, PositionRange, error) {
	t := p.advance()
	if _, err := p.expect(tokLParen); err != nil {
		return nil, PositionRange{}, err
	}
	var exprs []FieldExpr
	if f.Arg != ArgNone {
		es, err := p.parseFieldList()
		if err != nil {
			return nil, PositionRange{}, err
		}
		exprs = es
	}
	end, err := p.expect(tokRParen)
	if err != nil {
		return nil, PositionRange{}, err
	}
	r := PositionRange{t.pos, end.end}
	switch f.Pipeline {
	case PipelineBy:
		if len(exprs) != 1 {
			return nil, r, p.errorAt(r, "by() takes exactly one field")
		}
		g := &GroupBy{Expr: exprs[0]}
		g.Range = r
		return g, r, nil
	case PipelineSelect:
		s := &Select{Exprs: exprs}
		s.Range = r
		return s, r, nil
	}
	c := &Coalesce{}
	c.Range = r
	return c, r, nil
}

// parseFieldList parses fieldExpr { "," fieldExpr }.
func (p *parser) parseFieldList() ([]FieldExpr, error) {
	var out []FieldExpr
	for {
		e, _, err := p.parseFieldExpr(1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.tok().typ != tokComma {
			return out, nil
		}
		p.advance()
	}
}

// parseMetrics parses a metrics function with its arguments and by(...).
func (p *parser) parseMetrics() (*MetricsAggregate, error) {
	t := p.advance()
	f := Functions[t.str]
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	m := &MetricsAggregate{Func: f.Metrics}
	switch f.Arg {
	case ArgNumeric, ArgQuantiles:
		if p.tok().typ == tokRParen {
			return nil, p.unexpected("a field to aggregate")
		}
		e, _, err := p.parseFieldExpr(1)
		if err != nil {
			return nil, err
		}
		m.Arg = e
		for f.Arg == ArgQuantiles && p.tok().typ == tokComma {
			p.advance()
			q := p.tok()
			if q.typ != tokInt && q.typ != tokFloat {
				return nil, p.unexpected("a quantile between 0 and 1")
			}
			p.advance()
			m.Params = append(m.Params, literal(q))
		}
	}
	if f.Metrics == MetricsCompare {
		// compare({selection}, ...) is recognised so that the error can
		// say it is not supported rather than that it does not parse.
		for depth := 1; depth > 0; {
			switch p.advance().typ {
			case tokLParen:
				depth++
			case tokRParen:
				depth--
			case tokEOF:
				return nil, p.unexpected(`")"`)
			}
		}
		return nil, newError(UnsupportedError, p.src, PositionRange{t.pos, p.toks[p.i-1].end}, "compare() is not supported")
	}
	end, err := p.expect(tokRParen)
	if err != nil {
		return nil, err
	}
	m.Range = PositionRange{t.pos, end.end}
	if p.isIdent("by") {
		p.advance()
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		by, err := p.parseFieldList()
		if err != nil {
			return nil, err
		}
		end, err := p.expect(tokRParen)
		if err != nil {
			return nil, err
		}
		m.By = by
		m.Range.End = end.end
	}
	return m, nil
}

// parseSecondStage parses topk(n) or bottomk(n).
func (p *parser) parseSecondStage() (*SecondStage, error) {
	t := p.tok()
	f := Functions[t.str]
	if t.typ != tokIdent || f == nil || f.Kind != FuncSecondStage {
		return nil, p.unexpected("topk(n)", "bottomk(n)")
	}
	p.advance()
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	n := p.tok()
	if n.typ != tokInt {
		return nil, p.unexpected("a positive integer")
	}
	p.advance()
	end, err := p.expect(tokRParen)
	if err != nil {
		return nil, err
	}
	s := &SecondStage{Func: f.Second, N: int(min(n.i, 1<<31-1))}
	s.Range = PositionRange{t.pos, end.end}
	return s, nil
}

// parseHints parses with ( name = value { , name = value } ).
func (p *parser) parseHints() (*Hints, error) {
	t := p.advance()
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	h := &Hints{}
	for {
		name := p.tok()
		if name.typ != tokIdent {
			return nil, p.unexpected("a hint name")
		}
		p.advance()
		if _, err := p.expect(tokEq); err != nil {
			return nil, err
		}
		v, vr, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		s, ok := v.(*Static)
		if !ok {
			return nil, p.errorAt(vr, "a hint's value must be a literal")
		}
		hint := &Hint{Name: name.str, Value: s}
		hint.Range = PositionRange{name.pos, vr.End}
		h.Hints = append(h.Hints, hint)
		if p.tok().typ != tokComma {
			break
		}
		p.advance()
	}
	end, err := p.expect(tokRParen)
	if err != nil {
		return nil, err
	}
	h.Range = PositionRange{t.pos, end.end}
	return h, nil
}

// negate flips the sign of a number or duration literal.
func (s *Static) negate() {
	if s.Type == TypeFloat {
		s.Float = -s.Float
	} else {
		s.Int = -s.Int
	}
}
