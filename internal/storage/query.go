package storage

import (
	"errors"
	"fmt"

	"github.com/clew-tracing/clew/internal/model"
)

// DefaultLimit is the number of traces a search returns when Query.Limit is 0.
const DefaultLimit = 20

// MaxLimit bounds Query.Limit so that one request cannot ask a backend to
// materialise an unbounded result.
const MaxLimit = 100_000

// Query selects traces: a trace matches when at least one of its spans
// starts within Range and satisfies every condition. This is Jaeger's
// search semantics (service, operation, tags and duration all hold on the
// same span) and TraceQL's single-spanset filter.
type Query struct {
	Range      TimeRange
	Conditions []Condition
	Limit      int
}

// Field names what a Condition tests.
type Field uint8

// The fields a condition may test. FieldAttribute uses Condition.Scope and
// Condition.Key; the others are span intrinsics.
const (
	FieldAttribute     Field = iota
	FieldService             // resource service.name; string
	FieldName                // span name; string
	FieldKind                // span kind; Value is IntValue(kind)
	FieldStatus              // status code; Value is IntValue(code)
	FieldStatusMessage       // status message; string
	FieldDuration            // end-start in ns; Value is IntValue(ns)
	FieldScopeName           // instrumentation scope name
	FieldScopeVersion        // instrumentation scope version
)

var fieldNames = [...]string{"attribute", "service", "name", "kind", "status", "statusMessage", "duration", "scopeName", "scopeVersion"}

// String names the field for error messages.
func (f Field) String() string {
	if int(f) < len(fieldNames) {
		return fieldNames[f]
	}
	return fmt.Sprintf("field(%d)", f)
}

// AttrScope says where an attribute is looked up.
type AttrScope uint8

// Attribute scopes. ScopeAny looks everywhere a Jaeger tag can live: span,
// resource (process), instrumentation scope, events (logs) and links.
const (
	ScopeAny AttrScope = iota
	ScopeSpan
	ScopeResource
	ScopeInstrumentation
	ScopeEvent
	ScopeLink
)

var scopeNames = [...]string{"", "span", "resource", "instrumentation", "event", "link"}

// String returns the TraceQL name of the scope ("" for ScopeAny).
func (s AttrScope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return fmt.Sprintf("scope(%d)", s)
}

// ParseAttrScope maps a TraceQL scope name to its value.
func ParseAttrScope(s string) (AttrScope, bool) {
	for i, n := range scopeNames {
		if n == s {
			return AttrScope(i), true
		}
	}
	return ScopeAny, false
}

// Op is a comparison operator.
type Op uint8

// Comparison operators. Regular expressions are RE2 and fully anchored, as
// in TraceQL. OpExists ignores Value; OpNotExists matches when the
// attribute is absent.
const (
	OpEqual Op = iota
	OpNotEqual
	OpRegex
	OpNotRegex
	OpGreater
	OpGreaterEqual
	OpLess
	OpLessEqual
	OpExists
	OpNotExists
)

var opNames = [...]string{"=", "!=", "=~", "!~", ">", ">=", "<", "<=", "exists", "not exists"}

// String returns the operator's TraceQL spelling.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", o)
}

// Condition is one test on a span.
//
// Comparison rules, shared by every backend: a string Value compares with
// the attribute rendered by model.Value.AsString (so the Jaeger tag filter
// "code=200" matches the integer 200); a numeric Value compares numerically
// with numeric attributes (and strings that parse as numbers); a bool Value
// compares with bools. Ordering operators on strings compare
// lexicographically. A condition on an attribute that the span does not
// have is false, except OpNotExists.
type Condition struct {
	Field Field
	Scope AttrScope
	Key   string
	Op    Op
	Value model.Value
}

// String renders the condition for logs and errors.
func (c Condition) String() string {
	lhs := c.Field.String()
	if c.Field == FieldAttribute {
		lhs = c.Scope.String() + "." + c.Key
	}
	if c.Op == OpExists || c.Op == OpNotExists {
		return lhs + " " + c.Op.String()
	}
	return fmt.Sprintf("%s %s %q", lhs, c.Op, c.Value.AsString())
}

// Validate reports a query that no backend should run.
func (q *Query) Validate() error {
	if q.Limit < 0 || q.Limit > MaxLimit {
		return fmt.Errorf("limit %d out of range [0, %d]", q.Limit, MaxLimit)
	}
	if q.Range.Start != 0 && q.Range.End != 0 && q.Range.End < q.Range.Start {
		return errors.New("time range ends before it starts")
	}
	for _, c := range q.Conditions {
		if c.Field == FieldAttribute && c.Key == "" {
			return fmt.Errorf("condition %s: empty attribute name", c)
		}
		if c.Op > OpNotExists {
			return fmt.Errorf("condition %s: unknown operator", c)
		}
	}
	_, err := NewMatcher(q)
	return err
}

// EffectiveLimit returns q.Limit, or DefaultLimit when it is 0.
func (q *Query) EffectiveLimit() int {
	if q.Limit <= 0 {
		return DefaultLimit
	}
	return q.Limit
}
