package traceql

// Pos is a byte offset into the query text.
type Pos int

// PositionRange is the half-open byte range [Start, End) of the query text
// a node was parsed from.
type PositionRange struct {
	Start, End Pos
}

// posRange gives a node its position; it is embedded in every node.
type posRange struct {
	Range PositionRange
}

// PositionRange returns where the node is in the query text.
func (p posRange) PositionRange() PositionRange { return p.Range }

// Node is an element of the syntax tree. String prints it back as TraceQL
// that parses to an equal tree.
type Node interface {
	String() string
	PositionRange() PositionRange
}

// Query is a whole TraceQL query: a spanset pipeline, optionally turned
// into time series by a metrics function and second-stage functions, with
// optional hints.
//
//	{ status = error } | by(resource.service.name) | count() > 2 with (most_recent=true)
//	{ kind = server } | rate() by (resource.service.name) | topk(5)
type Query struct {
	posRange
	Pipeline    *Pipeline
	Metrics     *MetricsAggregate // nil for a search query
	SecondStage []*SecondStage
	Hints       *Hints // nil when the query has no with(...)

	src string // the text parsed, for error positions
}

// IsMetrics reports whether the query computes time series.
func (q *Query) IsMetrics() bool { return q.Metrics != nil }

// Hint returns the hint's value, if the query has it.
func (q *Query) Hint(name string) (Value, bool) {
	if q.Hints == nil {
		return Value{}, false
	}
	for _, h := range q.Hints.Hints {
		if h.Name == name {
			return h.Value.Value, true
		}
	}
	return Value{}, false
}

// Pipeline is a spanset expression followed by stages separated by |. The
// first stage is always a [SpansetExpr].
type Pipeline struct {
	posRange
	Stages []Stage
}

// Stage is an element of a pipeline: a [SpansetExpr], [*ScalarFilter],
// [*GroupBy], [*Select] or [*Coalesce].
type Stage interface {
	Node
	stage()
}

// SpansetExpr selects spansets: a [*SpansetFilter], a
// [*SpansetOperation] or a parenthesised [*PipelineExpr].
type SpansetExpr interface {
	Stage
	spansetExpr()
}

// SpansetFilter is { expr }: the spans for which expr is true. Expr is nil
// for { }, which keeps every span.
type SpansetFilter struct {
	posRange
	Expr FieldExpr
}

// SpansetOperation combines two spanset expressions evaluated on the same
// input: logically (&&, ||) or by the structure of the trace (>, >>, ~ ...).
type SpansetOperation struct {
	posRange
	Op       SpansetOp
	LHS, RHS SpansetExpr
}

// PipelineExpr is a parenthesised pipeline of more than one stage used as
// a spanset expression: ({ a } | count() > 1) && { b }.
type PipelineExpr struct {
	posRange
	Pipeline *Pipeline
}

// ScalarFilter keeps the spansets for which a comparison of aggregates
// holds: count() > 2, avg(duration) > 1s.
type ScalarFilter struct {
	posRange
	Op       BinaryOp
	LHS, RHS ScalarExpr
}

// ScalarExpr is a value computed per spanset: an [*Aggregate], a
// [*Static] number, or arithmetic on them ([*ScalarBinaryExpr]).
type ScalarExpr interface {
	Node
	scalarExpr()
}

// Aggregate is count(), avg(x), min(x), max(x) or sum(x) over the spans of
// a spanset. Arg is nil for count().
type Aggregate struct {
	posRange
	Func AggregateFunc
	Arg  FieldExpr
}

// ScalarBinaryExpr is arithmetic between scalar expressions.
type ScalarBinaryExpr struct {
	posRange
	Op       BinaryOp
	LHS, RHS ScalarExpr
}

// GroupBy splits each spanset into one per value of Expr: by(resource.service.name).
type GroupBy struct {
	posRange
	Expr FieldExpr
}

// Select adds fields to the spans returned: select(span.http.url, duration).
type Select struct {
	posRange
	Exprs []FieldExpr
}

// Coalesce merges every spanset of a trace into one.
type Coalesce struct {
	posRange
}

// MetricsAggregate turns the spans selected by the pipeline into time
// series: rate(), count_over_time(), quantile_over_time(duration, .5, .99)
// and so on, optionally split by fields.
type MetricsAggregate struct {
	posRange
	Func MetricsFunc
	// Arg is the field aggregated by the *_over_time functions other
	// than count_over_time; nil otherwise.
	Arg FieldExpr
	// Params are the further arguments: the quantiles of
	// quantile_over_time.
	Params []*Static
	By     []FieldExpr
}

// SecondStage is applied to the series of a metrics query: topk(n), bottomk(n).
type SecondStage struct {
	posRange
	Func SecondStageFunc
	N    int
}

// Hints is with (name = value, ...).
type Hints struct {
	posRange
	Hints []*Hint
}

// Hint is one name = value pair of a with(...) clause.
type Hint struct {
	posRange
	Name  string
	Value *Static
}

// FieldExpr is an expression evaluated on one span: a [*BinaryExpr],
// [*UnaryExpr], [*Static], [*Attribute] or [*IntrinsicField].
type FieldExpr interface {
	Node
	fieldExpr()
}

// BinaryExpr is a comparison, logical or arithmetic operation on fields.
type BinaryExpr struct {
	posRange
	Op       BinaryOp
	LHS, RHS FieldExpr
}

// UnaryExpr is !x or -x.
type UnaryExpr struct {
	posRange
	Op UnaryOp
	X  FieldExpr
}

// Static is a literal: a string, number, duration, boolean, nil, status or kind.
type Static struct {
	posRange
	Value
}

// Attribute is a span, resource, event, link or instrumentation attribute,
// or an unscoped one (.x: the span's, else the resource's). Parent makes
// it the parent span's attribute (parent.x, parent.span.x).
type Attribute struct {
	posRange
	Scope  AttributeScope
	Parent bool
	Name   string
}

// IntrinsicField is a field every span has: name, duration, status,
// trace:rootService and so on. Spelling is the form written (duration or
// span:duration), kept so that a query prints back as written.
type IntrinsicField struct {
	posRange
	Intrinsic Intrinsic
	Spelling  string
}

func (*SpansetFilter) stage()    {}
func (*SpansetOperation) stage() {}
func (*PipelineExpr) stage()     {}
func (*ScalarFilter) stage()     {}
func (*GroupBy) stage()          {}
func (*Select) stage()           {}
func (*Coalesce) stage()         {}

func (*SpansetFilter) spansetExpr()    {}
func (*SpansetOperation) spansetExpr() {}
func (*PipelineExpr) spansetExpr()     {}

func (*Aggregate) scalarExpr()        {}
func (*ScalarBinaryExpr) scalarExpr() {}
func (*Static) scalarExpr()           {}

func (*BinaryExpr) fieldExpr()     {}
func (*UnaryExpr) fieldExpr()      {}
func (*Static) fieldExpr()         {}
func (*Attribute) fieldExpr()      {}
func (*IntrinsicField) fieldExpr() {}

// AttributeScope says where an attribute is looked up.
type AttributeScope uint8

// Attribute scopes. ScopeNone is the unscoped .x.
const (
	ScopeNone AttributeScope = iota
	ScopeSpan
	ScopeResource
	ScopeEvent
	ScopeLink
	ScopeInstrumentation
)

var scopeNames = [...]string{"", "span", "resource", "event", "link", "instrumentation"}

// String returns the scope's TraceQL prefix without the dot ("" for ScopeNone).
func (s AttributeScope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return "?"
}

// BinaryOp is an operator between two field or scalar expressions.
type BinaryOp uint8

// Binary operators.
const (
	OpAnd BinaryOp = iota + 1
	OpOr
	OpEq
	OpNeq
	OpRe
	OpNre
	OpGt
	OpGte
	OpLt
	OpLte
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
	OpPow
)

var binaryOpNames = [...]string{
	OpAnd: "&&", OpOr: "||", OpEq: "=", OpNeq: "!=", OpRe: "=~", OpNre: "!~",
	OpGt: ">", OpGte: ">=", OpLt: "<", OpLte: "<=",
	OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%", OpPow: "^",
}

// String returns the operator as written in TraceQL.
func (o BinaryOp) String() string {
	if int(o) < len(binaryOpNames) && binaryOpNames[o] != "" {
		return binaryOpNames[o]
	}
	return "?"
}

// IsComparison reports whether o compares its operands (= != =~ !~ > >= < <=).
func (o BinaryOp) IsComparison() bool { return o >= OpEq && o <= OpLte }

// IsArithmetic reports whether o is + - * / % or ^.
func (o BinaryOp) IsArithmetic() bool { return o >= OpAdd && o <= OpPow }

// IsLogical reports whether o is && or ||.
func (o BinaryOp) IsLogical() bool { return o == OpAnd || o == OpOr }

// UnaryOp is ! or -.
type UnaryOp uint8

// Unary operators.
const (
	OpNot UnaryOp = iota + 1
	OpNeg
)

// String returns the operator as written in TraceQL.
func (o UnaryOp) String() string {
	switch o {
	case OpNot:
		return "!"
	case OpNeg:
		return "-"
	}
	return "?"
}

// SpansetOp is an operator between two spanset expressions.
type SpansetOp uint8

// Spanset operators. The structural ones return the right-hand side's
// spans that stand in the relation to some left-hand span; the negated
// ones those that do not; the union ones the spans of both sides that do.
const (
	SpansetAnd     SpansetOp = iota + 1 // &&: both match; spans of both
	SpansetOr                           // ||: either matches; spans of both
	SpansetChild                        // >:  rhs spans whose parent is a lhs span
	SpansetParent                       // <:  rhs spans that are the parent of a lhs span
	SpansetDesc                         // >>: rhs spans below a lhs span
	SpansetAnce                         // <<: rhs spans above a lhs span
	SpansetSibling                      // ~:  rhs spans sharing a parent with a lhs span
	SpansetNotChild
	SpansetNotParent
	SpansetNotDesc
	SpansetNotAnce
	SpansetNotSibling
	SpansetUnionChild
	SpansetUnionParent
	SpansetUnionDesc
	SpansetUnionAnce
	SpansetUnionSibling
)

var spansetOpNames = [...]string{
	SpansetAnd: "&&", SpansetOr: "||",
	SpansetChild: ">", SpansetParent: "<", SpansetDesc: ">>", SpansetAnce: "<<", SpansetSibling: "~",
	SpansetNotChild: "!>", SpansetNotParent: "!<", SpansetNotDesc: "!>>", SpansetNotAnce: "!<<", SpansetNotSibling: "!~",
	SpansetUnionChild: "&>", SpansetUnionParent: "&<", SpansetUnionDesc: "&>>", SpansetUnionAnce: "&<<", SpansetUnionSibling: "&~",
}

// String returns the operator as written in TraceQL.
func (o SpansetOp) String() string {
	if int(o) < len(spansetOpNames) && spansetOpNames[o] != "" {
		return spansetOpNames[o]
	}
	return "?"
}

// IsStructural reports whether o relates spans by the trace's tree.
func (o SpansetOp) IsStructural() bool { return o >= SpansetChild }

// IsNegated reports whether o is one of !> !< !>> !<< !~.
func (o SpansetOp) IsNegated() bool { return o >= SpansetNotChild && o <= SpansetNotSibling }

// IsUnion reports whether o is one of &> &< &>> &<< &~.
func (o SpansetOp) IsUnion() bool { return o >= SpansetUnionChild }

// Relation returns the structural relation of o (the plain operator for
// negated and union ones), or 0 for && and ||.
func (o SpansetOp) Relation() SpansetOp {
	switch {
	case o.IsNegated():
		return o - SpansetNotChild + SpansetChild
	case o.IsUnion():
		return o - SpansetUnionChild + SpansetChild
	case o.IsStructural():
		return o
	}
	return 0
}
