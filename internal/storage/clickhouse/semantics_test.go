package clickhouse

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

// TestConditionSQL checks what becomes SQL and what is left for Go.
func TestConditionSQL(t *testing.T) {
	f := func(c storage.Condition, wantSQL string, wantArgs ...any) {
		t.Helper()
		var q sqlBuf
		ok := condSQL(&q, &c)
		if wantSQL == "" {
			if ok {
				t.Errorf("%s: became SQL %q; want it evaluated in Go", c, q.String())
			}
			return
		}
		if !ok {
			t.Errorf("%s: left for Go; want SQL %q", c, wantSQL)
			return
		}
		if q.String() != wantSQL {
			t.Errorf("%s:\n got %s\nwant %s", c, q.String(), wantSQL)
		}
		if !slices.Equal(q.args, wantArgs) {
			t.Errorf("%s: args %v, want %v", c, q.args, wantArgs)
		}
	}
	str := model.StringValue
	f(storage.Condition{Field: storage.FieldService, Op: storage.OpEqual, Value: str("a'b")}, "service = ?", "a'b")
	f(storage.Condition{Field: storage.FieldName, Op: storage.OpRegex, Value: str("GET|POST")}, "match(name, ?)", "^(?-s:GET|POST)$")
	f(storage.Condition{Field: storage.FieldDuration, Op: storage.OpGreaterEqual, Value: model.IntValue(1000)},
		"if(1, NOT (toFloat64(duration_ns) < ?), 0)", float64(1000))
	f(storage.Condition{Field: storage.FieldKind, Op: storage.OpEqual, Value: model.BoolValue(true)},
		"if(3 IN (2, 1), toString(kind) = ?, 0)", "true")
	f(storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "k", Op: storage.OpNotExists},
		"NOT arrayExists((s, k) -> s = 1 AND k = ?, attr_scopes, attr_keys)", "k")
	f(storage.Condition{Field: storage.FieldAttribute, Key: "code", Op: storage.OpEqual, Value: str("200")},
		"has(attr_keys, ?) AND has(attr_strs, ?) AND arrayExists((s, k, t, v, n) -> k = ? AND (v = ?), attr_scopes, attr_keys, attr_types, attr_strs, attr_nums)",
		"code", "200", "code", "200")
	f(storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeResource, Key: "n", Op: storage.OpLess, Value: model.DoubleValue(2.5)},
		"arrayExists((s, k, t, v, n) -> s = 2 AND k = ? AND (if(bitAnd(t, 128) != 0, n < ?, 0)), attr_scopes, attr_keys, attr_types, attr_strs, attr_nums)",
		"n", 2.5)
	// Left for Go: numbers compared with string intrinsics (Go's
	// ParseFloat decides what is a number), NaN, and NUL in a regex.
	f(storage.Condition{Field: storage.FieldService, Op: storage.OpGreater, Value: model.IntValue(5)}, "")
	f(storage.Condition{Field: storage.FieldAttribute, Key: "x", Op: storage.OpEqual, Value: model.DoubleValue(math.NaN())}, "")
	f(storage.Condition{Field: storage.FieldName, Op: storage.OpRegex, Value: str("a\x00")}, "")
}

// TestSemanticsMatchMemstore loads awkward data into ClickHouse and into
// memstore (the reference) and checks that every query finds the same
// traces: the SQL translation and the Go fallback keep the matcher's rules
// for types, numbers in strings, NaN, bools, byte order, regex anchoring
// and newlines, scopes, and conditions that must hold on one span.
func TestSemanticsMatchMemstore(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	ref := memstore.New()
	defer ref.Close()
	ctx := context.Background()
	base := uint64(time.Now().Add(-time.Hour).UnixNano())
	var spans []*model.Span
	add := func(trace byte, svc, name string, kind model.SpanKind, status model.StatusCode, dur uint64, attrs ...model.KeyValue) *model.Span {
		s := &model.Span{
			TraceID: model.TraceID{0xee, 15: trace}, SpanID: model.SpanID{7: byte(len(spans) + 1)},
			Name: name, Kind: kind, StatusCode: status, StatusMessage: name + " status",
			StartUnixNano: base + uint64(trace)*1000, EndUnixNano: base + uint64(trace)*1000 + dur,
			Resource:   &model.Resource{ServiceName: svc, Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue(svc)}}},
			Scope:      &model.Scope{Name: "lib-" + svc, Version: "1.0"},
			Attributes: attrs,
		}
		spans = append(spans, s)
		return s
	}
	kv := func(k string, v model.Value) model.KeyValue { return model.KeyValue{Key: k, Value: v} }
	str, num, dbl, boo := model.StringValue, model.IntValue, model.DoubleValue, model.BoolValue
	add(1, "10", "multi\nline", model.KindServer, model.StatusOK, 5, kv("n", num(10)), kv("s", str("10")), kv("b", boo(true)))
	add(2, "9", "GET /x", model.KindClient, model.StatusError, 50, kv("n", dbl(9.5)), kv("s", str("9")), kv("b", str("true")))
	add(3, "abc", "Ünïcode", model.KindInternal, model.StatusUnset, 500, kv("n", dbl(math.NaN())), kv("s", str("abc")), kv("b", boo(false)))
	add(4, "1e1", "0x10", model.KindProducer, model.StatusOK, 5000, kv("n", str(" 7")), kv("s", str("inf")), kv("arr", model.Value{Type: model.TypeArray, Array: []model.Value{num(1), str("x")}}))
	add(5, "+5", "", model.KindConsumer, model.StatusOK, 1, kv("n", str("1_000")), kv("bytes", model.BytesValue([]byte{0xff, 0})))
	ev := add(6, "ev", "with events", model.KindServer, model.StatusOK, 7)
	ev.Events = []model.Event{{Name: "e1", Attributes: []model.KeyValue{kv("level", str("info"))}}, {Name: "e2", Attributes: []model.KeyValue{kv("level", str("error")), kv("n", num(3))}}}
	ev.Links = []model.Link{{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, Attributes: []model.KeyValue{kv("reason", str("retry"))}}}
	// Conditions on different spans of one trace must not match together.
	add(7, "split", "a", model.KindServer, model.StatusOK, 1, kv("x", str("1")))
	add(7, "split", "b", model.KindServer, model.StatusError, 1, kv("y", str("2")))
	if err := db.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	if err := ref.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}

	type C = storage.Condition
	intr := func(f storage.Field, op storage.Op, v model.Value) C { return C{Field: f, Op: op, Value: v} }
	attr := func(sc storage.AttrScope, k string, op storage.Op, v model.Value) C {
		return C{Field: storage.FieldAttribute, Scope: sc, Key: k, Op: op, Value: v}
	}
	queries := [][]C{
		{intr(storage.FieldService, storage.OpGreater, num(5))},      // numbers in service names: Go
		{intr(storage.FieldService, storage.OpLessEqual, dbl(9.99))}, // "9", "+5", "1e1"=10? no
		{intr(storage.FieldService, storage.OpNotEqual, num(10))},
		{intr(storage.FieldService, storage.OpGreater, str("9"))}, // bytewise
		{intr(storage.FieldService, storage.OpEqual, boo(true))},
		{intr(storage.FieldName, storage.OpRegex, str("multi.line"))}, // "." does not match \n
		{intr(storage.FieldName, storage.OpRegex, str("(?s)multi.line"))},
		{intr(storage.FieldName, storage.OpRegex, str("GET"))}, // anchored
		{intr(storage.FieldName, storage.OpNotRegex, str("GET.*|a|b"))},
		{intr(storage.FieldName, storage.OpRegex, str("Ü.*"))},
		{intr(storage.FieldName, storage.OpEqual, str(""))},
		{intr(storage.FieldName, storage.OpGreater, num(15))}, // "0x10" is 16 for ParseFloat
		{intr(storage.FieldKind, storage.OpRegex, str("[23]"))},
		{intr(storage.FieldKind, storage.OpEqual, str("2"))},
		{intr(storage.FieldKind, storage.OpEqual, boo(true))},
		{intr(storage.FieldKind, storage.OpNotEqual, boo(true))},
		{intr(storage.FieldStatus, storage.OpEqual, num(int64(model.StatusError)))},
		{intr(storage.FieldDuration, storage.OpGreater, num(50))},
		{intr(storage.FieldDuration, storage.OpLessEqual, dbl(50))},
		{intr(storage.FieldStatusMessage, storage.OpRegex, str("GET.*"))},
		{intr(storage.FieldScopeName, storage.OpEqual, str("lib-ev"))},
		{intr(storage.FieldScopeVersion, storage.OpGreaterEqual, num(1))},
		{attr(storage.ScopeAny, "n", storage.OpEqual, num(10))},
		{attr(storage.ScopeAny, "n", storage.OpEqual, str("10"))},
		{attr(storage.ScopeAny, "n", storage.OpGreater, num(5))}, // 10, 9.5, " 7" is not a number, NaN
		{attr(storage.ScopeAny, "n", storage.OpEqual, num(0))},   // NaN is "equal" in the matcher
		{attr(storage.ScopeAny, "n", storage.OpNotEqual, num(10))},
		{attr(storage.ScopeAny, "n", storage.OpEqual, dbl(math.Inf(1)))},
		{attr(storage.ScopeSpan, "s", storage.OpGreaterEqual, num(9))},
		{attr(storage.ScopeSpan, "s", storage.OpGreater, dbl(1e300))}, // "inf"
		{attr(storage.ScopeSpan, "s", storage.OpLess, str("9"))},
		{attr(storage.ScopeSpan, "b", storage.OpEqual, boo(true))},
		{attr(storage.ScopeSpan, "b", storage.OpLess, boo(true))},
		{attr(storage.ScopeSpan, "b", storage.OpNotEqual, boo(true))},
		{attr(storage.ScopeSpan, "b", storage.OpEqual, str("true"))},
		{attr(storage.ScopeSpan, "arr", storage.OpEqual, str(`[1,"x"]`))},
		{attr(storage.ScopeSpan, "bytes", storage.OpEqual, str("/wA="))},
		{attr(storage.ScopeSpan, "bytes", storage.OpExists, model.Value{})},
		{attr(storage.ScopeSpan, "bytes", storage.OpNotExists, model.Value{})},
		{attr(storage.ScopeEvent, "level", storage.OpEqual, str("error"))},
		{attr(storage.ScopeEvent, "n", storage.OpGreaterEqual, num(3))},
		{attr(storage.ScopeSpan, "level", storage.OpExists, model.Value{})},
		{attr(storage.ScopeLink, "reason", storage.OpRegex, str("re.*"))},
		{attr(storage.ScopeResource, "service.name", storage.OpEqual, str("split"))},
		{attr(storage.ScopeInstrumentation, "x", storage.OpNotExists, model.Value{})},
		{attr(storage.ScopeSpan, "x", storage.OpEqual, str("1")), attr(storage.ScopeSpan, "y", storage.OpEqual, str("2"))}, // different spans
		{attr(storage.ScopeSpan, "x", storage.OpEqual, str("1")), intr(storage.FieldStatus, storage.OpEqual, num(2))},
		{intr(storage.FieldService, storage.OpGreater, num(1)), attr(storage.ScopeSpan, "s", storage.OpExists, model.Value{})}, // Go and SQL together
	}
	for _, conds := range queries {
		q := &storage.Query{Conditions: conds, Limit: 100}
		want, err := ref.FindTraces(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTraces(ctx, q)
		if err != nil {
			t.Errorf("FindTraces(%v): %v", conds, err)
			continue
		}
		if w, g := traceIDs(want), traceIDs(got); w != g {
			t.Errorf("FindTraces(%v):\n got %s\nwant %s", conds, g, w)
		}
	}
}

func traceIDs(s []storage.TraceSummary) string {
	var out []string
	for _, x := range s {
		out = append(out, x.TraceID.String()[30:])
	}
	return "[" + strings.Join(out, " ") + "]"
}
