package traceql_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/traceql"
)

// stripPositions renders a tree as text without positions, so that trees
// parsed from different texts can be compared.
func stripPositions(n traceql.Node) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(n))
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dumpValue(b, v.Elem())
	case reflect.Struct:
		b.WriteString(v.Type().Name())
		b.WriteByte('{')
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Name == "posRange" || f.Name == "src" || f.Type == reflect.TypeOf(traceql.PositionRange{}) {
				continue
			}
			fmt.Fprintf(b, "%s:", f.Name)
			dumpValue(b, v.Field(i))
			b.WriteByte(' ')
		}
		b.WriteByte('}')
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			dumpValue(b, v.Index(i))
			b.WriteByte(' ')
		}
		b.WriteByte(']')
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(b, "%v", v.Float())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(b, "%d", v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fmt.Fprintf(b, "%d", v.Uint())
	case reflect.Bool:
		fmt.Fprintf(b, "%t", v.Bool())
	default:
		fmt.Fprintf(b, "<%s>", v.Kind())
	}
}

// checkPositions checks that every node lies within the query and within
// its parent, and that leaves cover some text.
func checkPositions(t *testing.T, where, src string, q traceql.Node) {
	t.Helper()
	var stack []traceql.Node
	traceql.Inspect(q, func(n traceql.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		r := n.PositionRange()
		if r.Start < 0 || r.End > traceql.Pos(len(src)) || r.Start > r.End {
			t.Errorf("%s: %s: node %T %q has range %v outside the query", where, src, n, n, r)
		}
		if len(stack) > 0 {
			pr := stack[len(stack)-1].PositionRange()
			if r.Start < pr.Start || r.End > pr.End {
				t.Errorf("%s: %s: node %T %q at %v lies outside its parent %T at %v", where, src, n, n, r, stack[len(stack)-1], pr)
			}
		}
		switch n.(type) {
		case *traceql.Static, *traceql.Attribute, *traceql.IntrinsicField:
			if r.Start == r.End {
				t.Errorf("%s: %s: leaf %T %q has an empty range", where, src, n, n)
			}
		}
		stack = append(stack, n)
		return true
	})
}
