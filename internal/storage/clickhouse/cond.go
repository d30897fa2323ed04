package clickhouse

import (
	"fmt"
	"math"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// sqlBuf builds a query whose values are all bound parameters: the text
// comes from this package's constants and column names, never from the
// query, and every value arrives through args (clickhouse-go quotes and
// escapes them).
type sqlBuf struct {
	b    strings.Builder
	args []any
}

func (q *sqlBuf) s(text string) *sqlBuf {
	q.b.WriteString(text)
	return q
}

// arg writes a placeholder for v.
func (q *sqlBuf) arg(v any) *sqlBuf {
	q.b.WriteByte('?')
	q.args = append(q.args, v)
	return q
}

func (q *sqlBuf) String() string { return q.b.String() }

// operand is the SQL form of a span value a condition tests: its rendering
// by model.Value.AsString, whether it is a number and which, and its type.
type operand struct {
	str string // SQL expression: the value as AsString renders it
	// isNum is an SQL boolean (or "1") saying the value is a number;
	// empty when SQL cannot tell (the condition then runs in Go).
	isNum string
	num   string // SQL Float64 expression
	// typ is the SQL expression of the model.ValueType, or a constant.
	typ string
}

// Operands of the intrinsic fields (columns of the spans table).
func intrinsic(f storage.Field) (operand, bool) {
	str := func(col string) operand {
		return operand{str: col, typ: fmt.Sprint(int(model.TypeString))}
	}
	num := func(col string) operand {
		return operand{str: "toString(" + col + ")", isNum: "1", num: "toFloat64(" + col + ")", typ: fmt.Sprint(int(model.TypeInt))}
	}
	switch f {
	case storage.FieldService:
		return str("service"), true
	case storage.FieldName:
		return str("name"), true
	case storage.FieldStatusMessage:
		return str("status_message"), true
	case storage.FieldScopeName:
		return str("scope_name"), true
	case storage.FieldScopeVersion:
		return str("scope_version"), true
	case storage.FieldKind:
		return num("kind"), true
	case storage.FieldStatus:
		return num("status_code"), true
	case storage.FieldDuration:
		// NB: the matcher compares int64(duration); durations past 2^63
		// ns (292 years) do not occur.
		return num("duration_ns"), true
	}
	return operand{}, false
}

// attrOperand is the operand inside arrayExists over the attribute arrays.
var attrOperand = operand{
	str:   "v",
	isNum: fmt.Sprintf("bitAnd(t, %d) != 0", attrNumeric),
	num:   "n",
	typ:   fmt.Sprintf("bitAnd(t, %d)", attrNumeric-1),
}

// condSQL writes the SQL of c into q and reports true, or writes nothing and
// reports false when SQL cannot evaluate c exactly as storage.Matcher does;
// the caller then evaluates c in Go.
func condSQL(q *sqlBuf, c *storage.Condition) bool {
	if c.Field != storage.FieldAttribute {
		op, ok := intrinsic(c.Field)
		if !ok {
			return false
		}
		if c.Op == storage.OpExists {
			q.s("1")
			return true
		}
		if c.Op == storage.OpNotExists {
			q.s("0")
			return true
		}
		var tmp sqlBuf
		if !cmpSQL(&tmp, op, c) {
			return false
		}
		q.s(tmp.String())
		q.args = append(q.args, tmp.args...)
		return true
	}
	scope := ""
	if c.Scope != storage.ScopeAny {
		scope = fmt.Sprintf("s = %d AND ", int(c.Scope))
	}
	switch c.Op {
	case storage.OpExists, storage.OpNotExists:
		if c.Op == storage.OpNotExists {
			q.s("NOT ")
		}
		q.s("arrayExists((s, k) -> " + scope + "k = ").arg(c.Key).s(", attr_scopes, attr_keys)")
		return true
	}
	var tmp sqlBuf
	if !cmpSQL(&tmp, attrOperand, c) {
		return false
	}
	if c.Op == storage.OpEqual && c.Value.Type == model.TypeString {
		// Redundant with the arrayExists below, but a bloom-filter skip
		// index on the arrays (modern dialect) can use has().
		q.s("has(attr_keys, ").arg(c.Key).s(") AND has(attr_strs, ").arg(c.Value.Str).s(") AND ")
	}
	q.s("arrayExists((s, k, t, v, n) -> " + scope + "k = ").arg(c.Key).s(" AND (")
	q.s(tmp.String())
	q.args = append(q.args, tmp.args...)
	q.s("), attr_scopes, attr_keys, attr_types, attr_strs, attr_nums)")
	return true
}

// cmpSQL writes the comparison of operand o with c's value, following
// storage.Matcher's rules (see compiled.cmp there).
func cmpSQL(q *sqlBuf, o operand, c *storage.Condition) bool {
	switch c.Op {
	case storage.OpExists:
		q.s("1")
		return true
	case storage.OpNotExists:
		q.s("0")
		return true
	case storage.OpRegex, storage.OpNotRegex:
		// RE2 on both sides; the matcher anchors the expression fully.
		// NB: ClickHouse's match() lets "." match a newline; (?-s:...)
		// turns that off as in Go.
		if strings.IndexByte(c.Value.AsString(), 0) >= 0 {
			return false
		}
		if c.Op == storage.OpNotRegex {
			q.s("NOT ")
		}
		q.s("match(" + o.str + ", ").arg("^(?-s:" + c.Value.AsString() + ")$").s(")")
		return true
	}
	switch c.Value.Type {
	case model.TypeInt, model.TypeDouble:
		f, _ := c.Value.AsFloat()
		if o.isNum == "" || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		// The matcher computes r = -1, 0, 1 from < and >, so a NaN value
		// is "equal"; the forms below keep that.
		var expr string
		switch c.Op {
		case storage.OpEqual:
			expr = "NOT (%[1]s < ?) AND NOT (%[1]s > ?)"
		case storage.OpNotEqual:
			expr = "(%[1]s < ? OR %[1]s > ?)"
		case storage.OpGreater:
			expr = "%[1]s > ?"
		case storage.OpGreaterEqual:
			expr = "NOT (%[1]s < ?)"
		case storage.OpLess:
			expr = "%[1]s < ?"
		case storage.OpLessEqual:
			expr = "NOT (%[1]s > ?)"
		default:
			return false
		}
		expr = fmt.Sprintf(expr, o.num)
		// A value that is not a number only satisfies !=.
		other := "0"
		if c.Op == storage.OpNotEqual {
			other = "1"
		}
		q.s("if(" + o.isNum + ", ")
		for i, part := range strings.Split(expr, "?") {
			if i > 0 {
				q.arg(f)
			}
			q.s(part)
		}
		q.s(", " + other + ")")
		return true
	case model.TypeBool:
		// Bools compare with bools and strings (both rendered
		// "true"/"false", which order as false < true); other types only
		// satisfy !=.
		other := "0"
		if c.Op == storage.OpNotEqual {
			other = "1"
		}
		q.s(fmt.Sprintf("if(%s IN (%d, %d), ", o.typ, model.TypeBool, model.TypeString))
		if !strCmp(q, o.str, c.Op, c.Value.AsString()) {
			return false
		}
		q.s(", " + other + ")")
		return true
	}
	return strCmp(q, o.str, c.Op, c.Value.AsString())
}

// strCmp compares strings bytewise, as strings.Compare does.
func strCmp(q *sqlBuf, expr string, op storage.Op, v string) bool {
	var sym string
	switch op {
	case storage.OpEqual:
		sym = " = "
	case storage.OpNotEqual:
		sym = " != "
	case storage.OpGreater:
		sym = " > "
	case storage.OpGreaterEqual:
		sym = " >= "
	case storage.OpLess:
		sym = " < "
	case storage.OpLessEqual:
		sym = " <= "
	default:
		return false
	}
	q.s(expr + sym).arg(v)
	return true
}

// whereSQL writes the WHERE clause of a span search over the spans table:
// the time range and every condition SQL can evaluate. It returns the
// conditions left for Go.
func whereSQL(q *sqlBuf, query *storage.Query) []storage.Condition {
	q.s(" WHERE 1")
	if query.Range.Start != 0 {
		q.s(" AND start_ns >= ").arg(query.Range.Start)
	}
	if query.Range.End != 0 {
		q.s(" AND start_ns <= ").arg(query.Range.End)
	}
	var rest []storage.Condition
	for i := range query.Conditions {
		c := &query.Conditions[i]
		var part sqlBuf
		if !condSQL(&part, c) {
			rest = append(rest, *c)
			continue
		}
		q.s(" AND (").s(part.String()).s(")")
		q.args = append(q.args, part.args...)
	}
	return rest
}
