package tempo

import (
	"strconv"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/traceql"
)

// keyValue is OTLP's KeyValue as jsonpb writes it.
type keyValue struct {
	Key   string   `json:"key"`
	Value anyValue `json:"value"`
}

// anyValue is OTLP's AnyValue as jsonpb writes it: one field set, 64-bit
// integers as strings. A nil value has no field.
type anyValue struct {
	StringValue *string  `json:"stringValue,omitempty"`
	IntValue    *string  `json:"intValue,omitempty"`
	DoubleValue *float64 `json:"doubleValue,omitempty"`
	BoolValue   *bool    `json:"boolValue,omitempty"`
}

func stringValue(s string) anyValue { return anyValue{StringValue: &s} }

// fromTraceQL renders a TraceQL value: strings, numbers and booleans as
// themselves, durations as integer nanoseconds, statuses and kinds by name.
func fromTraceQL(v traceql.Value) anyValue {
	switch v.Type {
	case traceql.TypeString:
		return stringValue(v.Str)
	case traceql.TypeInt, traceql.TypeDuration:
		s := strconv.FormatInt(v.Int, 10)
		return anyValue{IntValue: &s}
	case traceql.TypeFloat:
		f := v.Float
		return anyValue{DoubleValue: &f}
	case traceql.TypeBool:
		b := v.Bool()
		return anyValue{BoolValue: &b}
	case traceql.TypeStatus, traceql.TypeKind:
		return stringValue(v.Text())
	}
	return anyValue{}
}

// fromModel renders a stored attribute value; bytes, arrays and maps as
// their string form.
func fromModel(v model.Value) anyValue {
	return fromTraceQL(traceql.FromModel(v))
}

// typedValue is an element of the v2 tag-values response.
type typedValue struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// typedFromTraceQL renders a value with Tempo's type names.
func typedFromTraceQL(v traceql.Value) typedValue {
	switch v.Type {
	case traceql.TypeString:
		return typedValue{Type: "string", Value: v.Str}
	case traceql.TypeInt:
		return typedValue{Type: "int", Value: strconv.FormatInt(v.Int, 10)}
	case traceql.TypeFloat:
		return typedValue{Type: "float", Value: strconv.FormatFloat(v.Float, 'g', -1, 64)}
	case traceql.TypeBool:
		return typedValue{Type: "bool", Value: strconv.FormatBool(v.Bool())}
	case traceql.TypeDuration:
		return typedValue{Type: "duration", Value: v.String()}
	case traceql.TypeStatus, traceql.TypeKind:
		return typedValue{Type: "keyword", Value: v.Text()}
	}
	return typedValue{Type: "string", Value: v.Text()}
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
