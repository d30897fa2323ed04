package traceql

import (
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// Type is the type of a [Value] or, during validation, of an expression.
type Type uint8

// Value types. TypeAttribute is only used by validation: the type of an
// attribute, known only when a span is evaluated.
const (
	TypeNil Type = iota
	TypeString
	TypeInt
	TypeFloat
	TypeBool
	TypeDuration
	TypeStatus
	TypeKind
	TypeAttribute
)

var typeNames = [...]string{"nil", "string", "int", "float", "bool", "duration", "status", "kind", "attribute"}

// String names the type.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// IsNumeric reports whether values of t compare and compute as numbers
// (int, float and duration, which is an int of nanoseconds).
func (t Type) IsNumeric() bool { return t == TypeInt || t == TypeFloat || t == TypeDuration }

// Value is a TraceQL value: a literal in a query, or a field of a span
// during evaluation. Only the field named by Type is meaningful: Str for
// strings, Int for ints, durations (ns), bools (0 or 1), statuses and
// kinds, Float for floats.
type Value struct {
	Type  Type
	Str   string
	Int   int64
	Float float64
}

// Nil is the value of a missing attribute.
var Nil = Value{}

// StringValue returns a string Value.
func StringValue(s string) Value { return Value{Type: TypeString, Str: s} }

// IntValue returns an int Value.
func IntValue(i int64) Value { return Value{Type: TypeInt, Int: i} }

// FloatValue returns a float Value.
func FloatValue(f float64) Value { return Value{Type: TypeFloat, Float: f} }

// DurationValue returns a duration Value.
func DurationValue(d time.Duration) Value { return Value{Type: TypeDuration, Int: int64(d)} }

// BoolValue returns a bool Value.
func BoolValue(b bool) Value {
	v := Value{Type: TypeBool}
	if b {
		v.Int = 1
	}
	return v
}

// StatusValue returns a status Value.
func StatusValue(c model.StatusCode) Value { return Value{Type: TypeStatus, Int: int64(c)} }

// KindValue returns a kind Value.
func KindValue(k model.SpanKind) Value { return Value{Type: TypeKind, Int: int64(k)} }

// Bool returns the value of a bool.
func (v Value) Bool() bool { return v.Type == TypeBool && v.Int != 0 }

// IsNil reports whether v is nil (a missing attribute).
func (v Value) IsNil() bool { return v.Type == TypeNil }

// Number returns a numeric value as a float64.
func (v Value) Number() (float64, bool) {
	switch v.Type {
	case TypeInt, TypeDuration:
		return float64(v.Int), true
	case TypeFloat:
		return v.Float, true
	}
	return 0, false
}

// FromModel converts an attribute value. Strings, bools, ints and doubles
// keep their type; bytes, arrays and maps become their string rendering
// (base64, JSON), the form the storage layer compares them in.
func FromModel(v model.Value) Value {
	switch v.Type {
	case model.TypeEmpty:
		return Nil
	case model.TypeString:
		return StringValue(v.Str)
	case model.TypeBool:
		return BoolValue(v.Bool())
	case model.TypeInt:
		return IntValue(v.Int)
	case model.TypeDouble:
		return FloatValue(v.Double)
	}
	return StringValue(v.AsString())
}

// String renders the value as a TraceQL literal.
func (v Value) String() string {
	switch v.Type {
	case TypeNil:
		return "nil"
	case TypeString:
		return strconv.Quote(v.Str)
	case TypeInt:
		return strconv.FormatInt(v.Int, 10)
	case TypeFloat:
		return formatFloat(v.Float)
	case TypeBool:
		return strconv.FormatBool(v.Int != 0)
	case TypeDuration:
		return formatDuration(v.Int)
	case TypeStatus:
		return model.StatusCode(v.Int).String()
	case TypeKind:
		return model.SpanKind(v.Int).String()
	}
	return "?"
}

// Text renders the value for people and for labels: strings unquoted,
// statuses and kinds by name, durations as Go durations.
func (v Value) Text() string {
	if v.Type == TypeString {
		return v.Str
	}
	return v.String()
}

// formatFloat prints a float so that it lexes back as a float: always with
// a decimal point or an exponent.
func formatFloat(f float64) string {
	// NB: the lexer rejects literals out of float64's range, so a parsed
	// Static is never infinite or NaN.
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// formatDuration prints nanoseconds as a duration literal.
func formatDuration(ns int64) string {
	return time.Duration(ns).String()
}
