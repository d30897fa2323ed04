package block

import (
	"bytes"
	"regexp"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// A search plan evaluates each condition of a query on the columns of a
// row group. Every evaluation goes through storage.Matcher (a matcher for
// the single condition, applied to a scratch span holding just the value
// under test), so the comparison rules are exactly the shared ones; the
// plan only decides how rarely that has to happen: once per dictionary
// entry, symbol or distinct string, and per row only for numbers.

type condKind uint8

const (
	ckService condKind = iota
	ckName
	ckKind
	ckStatus
	ckScopeField
	ckStatusMessage
	ckDuration
	ckAttr
)

type plan struct {
	q     *storage.Query
	b     *Block
	conds []condPlan
	fake  model.Span // scratch for intrinsic evaluation
}

type condPlan struct {
	c    storage.Condition
	kind condKind
	m    *storage.Matcher // the single condition
	cost int

	resOK   []bool // per resource id (0 = nil): service or resource-attribute part
	scopeOK []bool // per scope id (0 = nil): scope name/version or instrumentation part
	svcOK   map[uint32]bool
	anyRes  bool
	anyScp  bool
	symOK   []int8 // per symbol, lazily: 0 unknown, 1 true, 2 false
	byteOK  [256]int8

	// Attribute conditions.
	key                                  uint64
	inRes, inScope, inSpan, inEv, inLink bool
	notExists                            bool
	pred                                 valuePred
}

// valuePred tests one attribute value against a condition.
type valuePred struct {
	always bool // exists / not exists: any value counts
	m      *storage.Matcher
	fake   model.Span
	fast   bool // numeric condition with a comparison operator
	op     storage.Op
	num    float64
	// For string values of a non-numeric condition the comparison is a
	// byte comparison with target (or a regular-expression match), done
	// without allocating.
	strFast bool
	target  []byte
	re      *regexp.Regexp
}

func newValuePred(c storage.Condition) (valuePred, error) {
	p := valuePred{op: c.Op}
	if c.Op == storage.OpExists || c.Op == storage.OpNotExists {
		p.always = true
		return p, nil
	}
	c.Field, c.Scope = storage.FieldAttribute, storage.ScopeSpan
	m, err := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{c}})
	if err != nil {
		return p, err
	}
	p.m = m
	p.fake.Attributes = []model.KeyValue{{Key: c.Key}}
	numeric := c.Value.Type == model.TypeInt || c.Value.Type == model.TypeDouble
	if numeric && c.Op <= storage.OpLessEqual && c.Op != storage.OpRegex && c.Op != storage.OpNotRegex {
		p.num, p.fast = c.Value.AsFloat()
	}
	if !numeric && c.Op <= storage.OpLessEqual {
		// Same rules as storage.Matcher: a string attribute compares by
		// its text with the condition's text form.
		p.strFast, p.target = true, []byte(c.Value.AsString())
		if c.Op == storage.OpRegex || c.Op == storage.OpNotRegex {
			p.re, err = regexp.Compile("^(?:" + c.Value.AsString() + ")$")
			if err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// evalString tests a string value given as bytes.
func (p *valuePred) evalString(b []byte) bool {
	switch {
	case p.always:
		return true
	case !p.strFast:
		return p.eval(model.StringValue(string(b)))
	case p.op == storage.OpRegex:
		return p.re.Match(b)
	case p.op == storage.OpNotRegex:
		return !p.re.Match(b)
	}
	r := bytes.Compare(b, p.target)
	switch p.op {
	case storage.OpEqual:
		return r == 0
	case storage.OpNotEqual:
		return r != 0
	case storage.OpGreater:
		return r > 0
	case storage.OpGreaterEqual:
		return r >= 0
	case storage.OpLess:
		return r < 0
	case storage.OpLessEqual:
		return r <= 0
	}
	return false
}

func (p *valuePred) eval(v model.Value) bool {
	switch {
	case p.always:
		return true
	case p.fast && v.Type == model.TypeInt:
		return numCmp(p.op, float64(v.Int), p.num)
	case p.fast && v.Type == model.TypeDouble:
		return numCmp(p.op, v.Double, p.num)
	}
	p.fake.Attributes[0].Value = v
	return p.m.MatchConditions(&p.fake)
}

// numCmp compares as storage.Matcher does for numeric conditions
// (NaN compares equal to everything, as there).
func numCmp(op storage.Op, f, num float64) bool {
	r := 0
	switch {
	case f < num:
		r = -1
	case f > num:
		r = 1
	}
	switch op {
	case storage.OpEqual:
		return r == 0
	case storage.OpNotEqual:
		return r != 0
	case storage.OpGreater:
		return r > 0
	case storage.OpGreaterEqual:
		return r >= 0
	case storage.OpLess:
		return r < 0
	case storage.OpLessEqual:
		return r <= 0
	}
	return false
}

// plan compiles q for this block. ok is false when no span of the block
// can match.
func (b *Block) plan(q *storage.Query) (p *plan, ok bool, err error) {
	p = &plan{q: q, b: b}
	dict := b.dict
	for _, c := range q.Conditions {
		cp := condPlan{c: c}
		cp.m, err = storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{c}})
		if err != nil {
			return nil, false, err
		}
		switch c.Field {
		case storage.FieldService:
			cp.kind, cp.cost = ckService, 1
			cp.resOK = make([]bool, len(dict.resources)+1)
			cp.svcOK = map[uint32]bool{}
			for id := range cp.resOK {
				p.fake.Resource = nil
				svc := uint32(0)
				if id > 0 {
					p.fake.Resource = dict.resources[id-1]
					svc = dict.resSvc[id-1]
				}
				if cp.resOK[id] = cp.m.MatchConditions(&p.fake); cp.resOK[id] {
					cp.svcOK[svc] = true
				}
			}
			p.fake.Resource = nil
			if len(cp.svcOK) == 0 {
				return nil, false, nil
			}
		case storage.FieldName:
			cp.kind, cp.cost = ckName, 1
			cp.symOK = make([]int8, len(dict.syms))
		case storage.FieldKind:
			cp.kind, cp.cost = ckKind, 1
		case storage.FieldStatus:
			cp.kind, cp.cost = ckStatus, 1
		case storage.FieldScopeName, storage.FieldScopeVersion:
			cp.kind, cp.cost = ckScopeField, 1
			cp.scopeOK = make([]bool, len(dict.scopes)+1)
			for id := range cp.scopeOK {
				p.fake.Scope = nil
				if id > 0 {
					p.fake.Scope = dict.scopes[id-1]
				}
				cp.scopeOK[id] = cp.m.MatchConditions(&p.fake)
				cp.anyScp = cp.anyScp || cp.scopeOK[id]
			}
			p.fake.Scope = nil
			if !cp.anyScp {
				return nil, false, nil
			}
		case storage.FieldStatusMessage:
			cp.kind, cp.cost = ckStatusMessage, 2
		case storage.FieldDuration:
			cp.kind, cp.cost = ckDuration, 2
			cp.pred, err = newValuePred(c)
			if err != nil {
				return nil, false, err
			}
		default: // attribute
			cp.kind = ckAttr
			cp.notExists = c.Op == storage.OpNotExists
			key, known := dict.symIDs[c.Key]
			if !known {
				if cp.notExists {
					continue // true for every span
				}
				return nil, false, nil
			}
			cp.key = uint64(key)
			cp.pred, err = newValuePred(c)
			if err != nil {
				return nil, false, err
			}
			in := func(s storage.AttrScope) bool { return c.Scope == storage.ScopeAny || c.Scope == s }
			cp.inRes, cp.inScope, cp.inSpan = in(storage.ScopeResource), in(storage.ScopeInstrumentation), in(storage.ScopeSpan)
			cp.inEv, cp.inLink = in(storage.ScopeEvent), in(storage.ScopeLink)
			if cp.inRes {
				cp.resOK = make([]bool, len(dict.resources)+1)
				for id, r := range dict.resources {
					cp.resOK[id+1] = cp.kvsHit(r.Attributes)
					cp.anyRes = cp.anyRes || cp.resOK[id+1]
				}
			}
			if cp.inScope {
				cp.scopeOK = make([]bool, len(dict.scopes)+1)
				for id, s := range dict.scopes {
					cp.scopeOK[id+1] = cp.kvsHit(s.Attributes)
					cp.anyScp = cp.anyScp || cp.scopeOK[id+1]
				}
			}
			cp.cost = 3
			if cp.inSpan {
				cp.cost = 4
			}
			if cp.inEv || cp.inLink {
				cp.cost = 5
			}
		}
		p.conds = append(p.conds, cp)
	}
	slices.SortStableFunc(p.conds, func(a, b condPlan) int { return a.cost - b.cost })
	return p, true, nil
}

// kvsHit reports whether a list has the condition's key with a value that
// satisfies it.
func (cp *condPlan) kvsHit(kvs []model.KeyValue) bool {
	for i := range kvs {
		if kvs[i].Key == cp.c.Key && cp.pred.eval(kvs[i].Value) {
			return true
		}
	}
	return false
}

// nameOK evaluates a name condition on symbol id, caching the answer.
func (p *plan) nameOK(cp *condPlan, id uint32) bool {
	if int(id) >= len(cp.symOK) {
		return false
	}
	if v := cp.symOK[id]; v != 0 {
		return v == 1
	}
	p.fake.Name = p.b.dict.syms[id]
	ok := cp.m.MatchConditions(&p.fake)
	p.fake.Name = ""
	cp.symOK[id] = 2
	if ok {
		cp.symOK[id] = 1
	}
	return ok
}

// byteOK evaluates a kind or status condition on value v, caching it.
func (p *plan) byteOK(cp *condPlan, v byte) bool {
	if r := cp.byteOK[v]; r != 0 {
		return r == 1
	}
	if cp.kind == ckKind {
		p.fake.Kind = model.SpanKind(v)
	} else {
		p.fake.StatusCode = model.StatusCode(v)
	}
	ok := cp.m.MatchConditions(&p.fake)
	p.fake.Kind, p.fake.StatusCode = 0, 0
	cp.byteOK[v] = 2
	if ok {
		cp.byteOK[v] = 1
	}
	return ok
}

// hasKey reports whether a sorted symbol set contains key.
func hasKey(set []uint32, key uint64) bool {
	_, ok := slices.BinarySearch(set, uint32(key))
	return ok
}

// mayMatch reports whether row group g can hold a matching span, from its
// statistics alone.
func (p *plan) mayMatch(g *rowGroup) bool {
	for i := range p.conds {
		cp := &p.conds[i]
		switch cp.kind {
		case ckService:
			if !slices.ContainsFunc(g.services, func(s uint32) bool { return cp.svcOK[s] }) {
				return false
			}
		case ckName:
			if !slices.ContainsFunc(g.names, func(s uint32) bool { return p.nameOK(cp, s) }) {
				return false
			}
		case ckAttr:
			if cp.notExists {
				continue
			}
			if !(cp.inRes && cp.anyRes || cp.inScope && cp.anyScp ||
				cp.inSpan && hasKey(g.spanKeys, cp.key) || cp.inEv && hasKey(g.eventKeys, cp.key) || cp.inLink && hasKey(g.linkKeys, cp.key)) {
				return false
			}
		}
	}
	return true
}

// columns returns the columns the condition needs in row group g.
func (cp *condPlan) columns(g *rowGroup) []int {
	switch cp.kind {
	case ckService:
		return []int{colResource}
	case ckName:
		return []int{colName}
	case ckKind:
		return []int{colKind}
	case ckStatus, ckStatusMessage:
		return []int{colStatus}
	case ckScopeField:
		return []int{colScope}
	case ckDuration:
		return []int{colStart, colDuration}
	}
	var cols []int
	if cp.inRes && cp.anyRes {
		cols = append(cols, colResource)
	}
	if cp.inScope && cp.anyScp {
		cols = append(cols, colScope)
	}
	if cp.inSpan && hasKey(g.spanKeys, cp.key) {
		cols = append(cols, colAttrs)
	}
	if cp.inEv && hasKey(g.eventKeys, cp.key) {
		cols = append(cols, colEvents)
	}
	if cp.inLink && hasKey(g.linkKeys, cp.key) {
		cols = append(cols, colLinks)
	}
	return cols
}
