package traceql

// ParseField parses a single attribute or intrinsic, as autocomplete
// endpoints name them: resource.service.name, span."a b", .x, name,
// span:status.
func ParseField(s string) (FieldExpr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks}
	if t := p.tok(); t.typ != tokAttribute && t.typ != tokIntrinsic && t.typ != tokIdent {
		return nil, p.unexpected("an attribute", "an intrinsic")
	}
	e, _, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	switch e.(type) {
	case *Attribute, *IntrinsicField:
	default:
		return nil, p.errorAt(e.PositionRange(), "not an attribute or intrinsic", "an attribute", "an intrinsic")
	}
	if p.tok().typ != tokEOF {
		return nil, p.unexpected("end of field")
	}
	return e, nil
}

// ParseLenientFilter extracts the conditions of a query that is being
// typed, for autocomplete: Grafana sends the query so far with a request
// for the values of one tag, e.g. { resource.service.name = "api" &&
// span.http.method = }. It returns the conjunction of the complete
// "field op literal" conditions (and bare fields) found before the text
// stops parsing, or nil when there are none.
//
// A query that parses whole gives the expression of its first spanset
// filter when that is a filter; any other query gives its complete
// conditions in order.
func ParseLenientFilter(q string) FieldExpr {
	if parsed, err := Parse(q); err == nil {
		if f, ok := parsed.Pipeline.Stages[0].(*SpansetFilter); ok {
			return f.Expr
		}
	}
	l := &lexer{src: q}
	var toks []token
	for {
		t, err := l.next()
		if err != nil || t.typ == tokEOF {
			break
		}
		toks = append(toks, t)
	}
	toks = append(toks, token{typ: tokEOF, pos: Pos(len(q)), end: Pos(len(q))})
	var conds []FieldExpr
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].typ != tokAttribute && toks[i].typ != tokIntrinsic && toks[i].typ != tokIdent {
			continue
		}
		op, ok := binaryOps[toks[i+1].typ]
		if !ok || !op.IsComparison() {
			continue
		}
		p := &parser{src: q, toks: []token{toks[i], toks[i+1], toks[i+2], {typ: tokEOF}}}
		e, _, err := p.parseFieldExpr(3)
		if err != nil || p.tok().typ != tokEOF {
			continue
		}
		b, ok := e.(*BinaryExpr)
		if !ok || !isField(b.LHS) || Validate(&Query{Pipeline: &Pipeline{Stages: []Stage{&SpansetFilter{Expr: b}}}}) != nil {
			continue
		}
		conds = append(conds, b)
		i += 2
	}
	var out FieldExpr
	for _, c := range conds {
		if out == nil {
			out = c
			continue
		}
		out = &BinaryExpr{Op: OpAnd, LHS: out, RHS: c}
	}
	return out
}

func isField(e FieldExpr) bool {
	switch e.(type) {
	case *Attribute, *IntrinsicField:
		return true
	}
	return false
}
