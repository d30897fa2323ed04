package storage

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
)

// Matcher evaluates a Query's conditions on spans in Go. Build it once per
// query with NewMatcher (which compiles regular expressions) and share it;
// it is safe for concurrent use.
type Matcher struct {
	q     *Query
	conds []compiled
}

type compiled struct {
	Condition
	re    *regexp.Regexp
	num   float64
	isNum bool
}

// NewMatcher compiles q's conditions.
func NewMatcher(q *Query) (*Matcher, error) {
	m := &Matcher{q: q, conds: make([]compiled, len(q.Conditions))}
	for i, c := range q.Conditions {
		cc := compiled{Condition: c}
		if c.Op == OpRegex || c.Op == OpNotRegex {
			re, err := regexp.Compile("^(?:" + c.Value.AsString() + ")$")
			if err != nil {
				return nil, fmt.Errorf("condition %s: %w", c, err)
			}
			cc.re = re
		}
		if c.Value.Type == model.TypeInt || c.Value.Type == model.TypeDouble {
			cc.num, cc.isNum = c.Value.AsFloat()
		}
		m.conds[i] = cc
	}
	return m, nil
}

// Query returns the query the matcher was built from.
func (m *Matcher) Query() *Query { return m.q }

// Match reports whether the span starts in the query's range and satisfies
// every condition.
func (m *Matcher) Match(s *model.Span) bool {
	if !m.q.Range.Contains(s.StartUnixNano) {
		return false
	}
	for i := range m.conds {
		if !m.conds[i].match(s) {
			return false
		}
	}
	return true
}

// MatchConditions is Match without the time-range test, for backends that
// have already applied the range.
func (m *Matcher) MatchConditions(s *model.Span) bool {
	for i := range m.conds {
		if !m.conds[i].match(s) {
			return false
		}
	}
	return true
}

func (c *compiled) match(s *model.Span) bool {
	switch c.Field {
	case FieldService:
		return c.cmp(model.StringValue(s.Service()))
	case FieldName:
		return c.cmp(model.StringValue(s.Name))
	case FieldKind:
		return c.cmp(model.IntValue(int64(s.Kind)))
	case FieldStatus:
		return c.cmp(model.IntValue(int64(s.StatusCode)))
	case FieldStatusMessage:
		return c.cmp(model.StringValue(s.StatusMessage))
	case FieldDuration:
		return c.cmp(model.IntValue(int64(s.Duration())))
	case FieldScopeName:
		if s.Scope == nil {
			return c.cmp(model.StringValue(""))
		}
		return c.cmp(model.StringValue(s.Scope.Name))
	case FieldScopeVersion:
		if s.Scope == nil {
			return c.cmp(model.StringValue(""))
		}
		return c.cmp(model.StringValue(s.Scope.Version))
	}
	found := false
	ok := false
	visit := func(kvs []model.KeyValue) bool {
		for i := range kvs {
			if kvs[i].Key == c.Key {
				found = true
				if c.Op == OpExists || c.cmp(kvs[i].Value) {
					ok = true
					return true
				}
			}
		}
		return false
	}
	eachScope(s, c.Scope, visit)
	if c.Op == OpNotExists {
		return !found
	}
	return ok
}

// eachScope calls visit on each attribute list of s in scope until visit
// returns true.
func eachScope(s *model.Span, scope AttrScope, visit func([]model.KeyValue) bool) {
	if scope == ScopeAny || scope == ScopeSpan {
		if visit(s.Attributes) {
			return
		}
	}
	if (scope == ScopeAny || scope == ScopeResource) && s.Resource != nil {
		if visit(s.Resource.Attributes) {
			return
		}
	}
	if (scope == ScopeAny || scope == ScopeInstrumentation) && s.Scope != nil {
		if visit(s.Scope.Attributes) {
			return
		}
	}
	if scope == ScopeAny || scope == ScopeEvent {
		for i := range s.Events {
			if visit(s.Events[i].Attributes) {
				return
			}
		}
	}
	if scope == ScopeAny || scope == ScopeLink {
		for i := range s.Links {
			if visit(s.Links[i].Attributes) {
				return
			}
		}
	}
}

// EachAttribute calls fn for every attribute of s in scope (every scope for
// ScopeAny), naming the scope each came from.
func EachAttribute(s *model.Span, fn func(scope AttrScope, kv *model.KeyValue)) {
	for i := range s.Attributes {
		fn(ScopeSpan, &s.Attributes[i])
	}
	if s.Resource != nil {
		for i := range s.Resource.Attributes {
			fn(ScopeResource, &s.Resource.Attributes[i])
		}
	}
	if s.Scope != nil {
		for i := range s.Scope.Attributes {
			fn(ScopeInstrumentation, &s.Scope.Attributes[i])
		}
	}
	for i := range s.Events {
		for j := range s.Events[i].Attributes {
			fn(ScopeEvent, &s.Events[i].Attributes[j])
		}
	}
	for i := range s.Links {
		for j := range s.Links[i].Attributes {
			fn(ScopeLink, &s.Links[i].Attributes[j])
		}
	}
}

// cmp applies the operator to an attribute value v.
func (c *compiled) cmp(v model.Value) bool {
	switch c.Op {
	case OpExists:
		return true
	case OpNotExists:
		return false
	case OpRegex:
		return c.re.MatchString(v.AsString())
	case OpNotRegex:
		return !c.re.MatchString(v.AsString())
	}
	var r int // -1, 0, 1: v compared with c.Value
	switch {
	case c.isNum:
		f, ok := v.AsFloat()
		if !ok {
			return c.Op == OpNotEqual
		}
		switch {
		case f < c.num:
			r = -1
		case f > c.num:
			r = 1
		}
	case c.Value.Type == model.TypeBool:
		if v.Type != model.TypeBool {
			if v.Type == model.TypeString {
				r = strings.Compare(v.Str, c.Value.AsString())
				break
			}
			return c.Op == OpNotEqual
		}
		r = int(v.Int) - int(c.Value.Int)
	default:
		r = strings.Compare(v.AsString(), c.Value.AsString())
	}
	switch c.Op {
	case OpEqual:
		return r == 0
	case OpNotEqual:
		return r != 0
	case OpGreater:
		return r > 0
	case OpGreaterEqual:
		return r >= 0
	case OpLess:
		return r < 0
	case OpLessEqual:
		return r <= 0
	}
	return false
}
