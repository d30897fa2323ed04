package engine

import (
	"math"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
)

// Plan says how to find the candidate traces of a query: the union of
// the traces that Searches find. Every trace the query matches within the
// time range is among them; the evaluator then decides exactly.
//
// A search holds the conditions of one spanset filter that storage can
// evaluate (storage.Condition values, so an SQL backend translates them):
// every condition of a filter must hold on one span, which is the storage
// contract. Storage compares more loosely than TraceQL (the string "200"
// equals the integer 200 there), so a search finds a superset and the
// evaluator re-checks everything.
type Plan struct {
	Searches []*PlannedSearch
}

// PlannedSearch is one storage search of a plan.
type PlannedSearch struct {
	// Conditions must all hold on one span.
	Conditions []storage.Condition
	// AnyOf clauses each need one of their conditions to hold on that
	// same span (from || inside a filter).
	AnyOf [][]storage.Condition
	// Filter is the spanset filter the conditions come from.
	Filter *traceql.SpansetFilter
}

// String renders the plan for tests and logs: searches separated by
// " UNION ", conditions by " AND ", alternatives in ANY(...).
func (p *Plan) String() string {
	parts := make([]string, len(p.Searches))
	for i, s := range p.Searches {
		parts[i] = s.String()
	}
	return strings.Join(parts, " UNION ")
}

// String renders the search's conditions.
func (s *PlannedSearch) String() string {
	var parts []string
	for _, c := range s.Conditions {
		parts = append(parts, c.String())
	}
	for _, clause := range s.AnyOf {
		alts := make([]string, len(clause))
		for i, c := range clause {
			alts[i] = c.String()
		}
		parts = append(parts, "ANY("+strings.Join(alts, ", ")+")")
	}
	if len(parts) == 0 {
		return "ALL"
	}
	return strings.Join(parts, " AND ")
}

// search returns the query layer's form of the search.
func (s *PlannedSearch) search(r storage.TimeRange, limit int) *query.Search {
	return &query.Search{
		Query: storage.Query{Range: r, Conditions: s.Conditions, Limit: limit},
		AnyOf: s.AnyOf,
	}
}

// NewPlan plans a parsed query:
//
//   - { f } searches f's conditions;
//   - A && B, A > B, A >> B, A ~ B and the other plain and union structural
//     operators need spans matching both sides, so one side suffices: the
//     one whose conditions look most selective;
//   - A || B needs the union of both sides' searches;
//   - A !> B (and the other negated operators) returns B's spans, which
//     need not relate to any A span: B's search;
//   - a pipeline's later stages only narrow or regroup the spans of its
//     first stage, which alone decides.
//
// A side without storage conditions means scanning every trace in the
// range; a union containing such a side is one scan.
func NewPlan(q *traceql.Query) *Plan {
	ss := planSpanset(q.Pipeline.Stages[0].(traceql.SpansetExpr))
	for _, s := range ss {
		if s.score() == 0 {
			return &Plan{Searches: []*PlannedSearch{s}}
		}
	}
	return &Plan{Searches: ss}
}

func planSpanset(e traceql.SpansetExpr) []*PlannedSearch {
	switch e := e.(type) {
	case *traceql.SpansetFilter:
		return []*PlannedSearch{planFilter(e)}
	case *traceql.PipelineExpr:
		return planSpanset(e.Pipeline.Stages[0].(traceql.SpansetExpr))
	case *traceql.SpansetOperation:
		switch {
		case e.Op == traceql.SpansetOr:
			return append(planSpanset(e.LHS), planSpanset(e.RHS)...)
		case e.Op.IsNegated():
			return planSpanset(e.RHS)
		}
		l, r := planSpanset(e.LHS), planSpanset(e.RHS)
		if unionScore(r) > unionScore(l) {
			return r
		}
		return l
	}
	return []*PlannedSearch{{}}
}

// unionScore is the selectivity of a union: that of its least selective
// member, since the union finds at least what that one finds.
func unionScore(ss []*PlannedSearch) float64 {
	m := math.Inf(1)
	for _, s := range ss {
		m = min(m, s.score())
	}
	return m
}

// score estimates how selective a search is, without statistics: equality
// on a name or service beats equality on an attribute, which beats a
// regular expression, a range, a status and an existence test.
func (s *PlannedSearch) score() float64 {
	total := 0.0
	for _, c := range s.Conditions {
		total += condScore(c)
	}
	for _, clause := range s.AnyOf {
		m := math.Inf(1)
		for _, c := range clause {
			m = min(m, condScore(c))
		}
		total += m / 2
	}
	return total
}

func condScore(c storage.Condition) float64 {
	switch c.Op {
	case storage.OpEqual:
		switch c.Field {
		case storage.FieldService, storage.FieldName:
			return 10
		case storage.FieldStatus:
			if c.Value.Int == int64(model.StatusError) {
				return 4
			}
			return 1
		case storage.FieldKind:
			return 2
		}
		return 8
	case storage.OpRegex:
		return 5
	case storage.OpGreater, storage.OpGreaterEqual, storage.OpLess, storage.OpLessEqual:
		return 3
	case storage.OpExists:
		return 2
	}
	return 1
}

// planFilter collects the storage conditions implied by a filter: those of
// its top-level conjunction, plus one AnyOf clause per top-level
// disjunction whose every branch implies a condition.
func planFilter(f *traceql.SpansetFilter) *PlannedSearch {
	s := &PlannedSearch{Filter: f}
	if f.Expr == nil {
		return s
	}
	alternatives := 1
	for _, c := range conjuncts(f.Expr) {
		if conds := conditions(c); conds != nil {
			s.Conditions = append(s.Conditions, conds...)
			continue
		}
		b, ok := c.(*traceql.BinaryExpr)
		if !ok || b.Op != traceql.OpOr {
			continue
		}
		var clause []storage.Condition
		for _, d := range disjuncts(b) {
			best, ok := bestCondition(d)
			if !ok {
				clause = nil
				break
			}
			clause = append(clause, best)
		}
		if clause == nil || alternatives*len(clause) > query.MaxAlternatives {
			continue
		}
		alternatives *= len(clause)
		s.AnyOf = append(s.AnyOf, clause)
	}
	return s
}

// bestCondition returns the most selective single condition implied by e.
func bestCondition(e traceql.FieldExpr) (storage.Condition, bool) {
	var best storage.Condition
	found := false
	for _, c := range conjuncts(e) {
		for _, cond := range conditions(c) {
			if !found || condScore(cond) > condScore(best) {
				best, found = cond, true
			}
		}
	}
	return best, found
}

func conjuncts(e traceql.FieldExpr) []traceql.FieldExpr {
	if b, ok := e.(*traceql.BinaryExpr); ok && b.Op == traceql.OpAnd {
		return append(conjuncts(b.LHS), conjuncts(b.RHS)...)
	}
	return []traceql.FieldExpr{e}
}

func disjuncts(e traceql.FieldExpr) []traceql.FieldExpr {
	if b, ok := e.(*traceql.BinaryExpr); ok && b.Op == traceql.OpOr {
		return append(disjuncts(b.LHS), disjuncts(b.RHS)...)
	}
	return []traceql.FieldExpr{e}
}

var storageScopes = map[traceql.AttributeScope]storage.AttrScope{
	traceql.ScopeNone: storage.ScopeAny, traceql.ScopeSpan: storage.ScopeSpan, traceql.ScopeResource: storage.ScopeResource,
	traceql.ScopeEvent: storage.ScopeEvent, traceql.ScopeLink: storage.ScopeLink, traceql.ScopeInstrumentation: storage.ScopeInstrumentation,
}

var storageOps = map[traceql.BinaryOp]storage.Op{
	traceql.OpEq: storage.OpEqual, traceql.OpNeq: storage.OpNotEqual, traceql.OpRe: storage.OpRegex, traceql.OpNre: storage.OpNotRegex,
	traceql.OpGt: storage.OpGreater, traceql.OpGte: storage.OpGreaterEqual, traceql.OpLt: storage.OpLess, traceql.OpLte: storage.OpLessEqual,
}

// flipped mirrors an ordering operator for "literal op field".
var flipped = map[traceql.BinaryOp]traceql.BinaryOp{
	traceql.OpGt: traceql.OpLt, traceql.OpGte: traceql.OpLte, traceql.OpLt: traceql.OpGt, traceql.OpLte: traceql.OpGte,
	traceql.OpEq: traceql.OpEq, traceql.OpNeq: traceql.OpNeq,
}

// maxExactFloat is the largest integer a float64 holds exactly; storage
// compares numbers as float64, so an ordering against a larger integer is
// not pushed down (rounding could make storage reject a match).
const maxExactFloat = 1 << 53

// conditions returns the storage conditions equivalent to, or implied by,
// one conjunct of a filter; nil when storage cannot help.
func conditions(e traceql.FieldExpr) []storage.Condition {
	switch e := e.(type) {
	case *traceql.Attribute:
		// A bare attribute holds when it is present (and not false).
		if e.Parent {
			return nil
		}
		return []storage.Condition{{Field: storage.FieldAttribute, Scope: storageScopes[e.Scope], Key: e.Name, Op: storage.OpExists}}
	case *traceql.BinaryExpr:
		if !e.Op.IsComparison() {
			return nil
		}
		field, lit, op := e.LHS, e.RHS, e.Op
		if _, ok := lit.(*traceql.Static); !ok {
			field, lit = e.RHS, e.LHS
			if op, ok = flipped[op]; !ok {
				return nil
			}
		}
		s, ok := lit.(*traceql.Static)
		if !ok {
			return nil
		}
		switch f := field.(type) {
		case *traceql.Attribute:
			return attributeConditions(f, op, s.Value)
		case *traceql.IntrinsicField:
			return intrinsicConditions(f.Intrinsic, op, s.Value)
		}
	}
	return nil
}

func attributeConditions(a *traceql.Attribute, op traceql.BinaryOp, v traceql.Value) []storage.Condition {
	if a.Parent {
		return nil
	}
	scope := storageScopes[a.Scope]
	cond := storage.Condition{Field: storage.FieldAttribute, Scope: scope, Key: a.Name, Op: storageOps[op]}
	if v.IsNil() {
		switch {
		case op == traceql.OpNeq:
			cond.Op = storage.OpExists
			return []storage.Condition{cond}
		case op != traceql.OpEq:
			return nil
		case a.Scope == traceql.ScopeSpan, a.Scope == traceql.ScopeResource, a.Scope == traceql.ScopeInstrumentation:
			cond.Op = storage.OpNotExists
			return []storage.Condition{cond}
		case a.Scope == traceql.ScopeNone:
			// .x = nil: neither the span nor its resource has x. Storage's
			// "any scope" would also require events and links to lack it.
			return []storage.Condition{
				{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: a.Name, Op: storage.OpNotExists},
				{Field: storage.FieldAttribute, Scope: storage.ScopeResource, Key: a.Name, Op: storage.OpNotExists},
			}
		}
		// event.x = nil holds when some event lacks x, which storage
		// cannot say.
		return nil
	}
	mv, ok := modelValue(v, op)
	if !ok {
		return nil
	}
	cond.Value = mv
	if a.Scope == traceql.ScopeResource && a.Name == "service.name" && v.Type == traceql.TypeString {
		// The service is pulled out of this attribute on ingestion and
		// indexed by backends.
		cond.Field, cond.Scope, cond.Key = storage.FieldService, storage.ScopeAny, ""
	}
	return []storage.Condition{cond}
}

// modelValue converts a literal for a storage condition with operator op;
// ok is false when storage's comparison would not be a superset of
// TraceQL's.
func modelValue(v traceql.Value, op traceql.BinaryOp) (model.Value, bool) {
	ordering := op == traceql.OpGt || op == traceql.OpGte || op == traceql.OpLt || op == traceql.OpLte
	switch v.Type {
	case traceql.TypeString:
		return model.StringValue(v.Str), true
	case traceql.TypeInt, traceql.TypeDuration:
		if ordering && (v.Int >= maxExactFloat || v.Int <= -maxExactFloat) {
			return model.Value{}, false
		}
		return model.IntValue(v.Int), true
	case traceql.TypeFloat:
		if math.IsNaN(v.Float) {
			return model.Value{}, false
		}
		return model.DoubleValue(v.Float), true
	case traceql.TypeBool:
		if ordering {
			return model.Value{}, false
		}
		return model.BoolValue(v.Int != 0), true
	}
	// Statuses and kinds never equal an attribute value.
	return model.Value{}, false
}

func intrinsicConditions(in traceql.Intrinsic, op traceql.BinaryOp, v traceql.Value) []storage.Condition {
	if v.IsNil() {
		return nil
	}
	cond := storage.Condition{Op: storageOps[op]}
	switch in {
	case traceql.IntrinsicName, traceql.IntrinsicStatusMessage, traceql.IntrinsicInstrumentationName, traceql.IntrinsicInstrumentationVersion:
		if v.Type != traceql.TypeString {
			return nil
		}
		cond.Field = map[traceql.Intrinsic]storage.Field{
			traceql.IntrinsicName: storage.FieldName, traceql.IntrinsicStatusMessage: storage.FieldStatusMessage,
			traceql.IntrinsicInstrumentationName: storage.FieldScopeName, traceql.IntrinsicInstrumentationVersion: storage.FieldScopeVersion,
		}[in]
		cond.Value = model.StringValue(v.Str)
	case traceql.IntrinsicStatus, traceql.IntrinsicKind:
		want := traceql.TypeStatus
		cond.Field = storage.FieldStatus
		if in == traceql.IntrinsicKind {
			want, cond.Field = traceql.TypeKind, storage.FieldKind
		}
		if v.Type != want || (op != traceql.OpEq && op != traceql.OpNeq) {
			return nil
		}
		cond.Value = model.IntValue(v.Int)
	case traceql.IntrinsicDuration:
		if !v.Type.IsNumeric() || op == traceql.OpRe || op == traceql.OpNre {
			return nil
		}
		mv, ok := modelValue(v, op)
		if !ok {
			return nil
		}
		cond.Field, cond.Value = storage.FieldDuration, mv
	default:
		return nil
	}
	return []storage.Condition{cond}
}
