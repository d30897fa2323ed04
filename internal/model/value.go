package model

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
)

// ValueType tells which field of a [Value] is set.
type ValueType uint8

// Value types, in the order of OTLP's AnyValue oneof.
const (
	TypeEmpty ValueType = iota
	TypeString
	TypeBool
	TypeInt
	TypeDouble
	TypeBytes
	TypeArray
	TypeMap
)

// Value is an attribute value. Only the field named by Type is meaningful.
type Value struct {
	Type   ValueType
	Str    string // TypeString, and the raw bytes of TypeBytes
	Int    int64  // TypeInt, and 0/1 for TypeBool
	Double float64
	Array  []Value
	Map    []KeyValue
}

// KeyValue is one attribute.
type KeyValue struct {
	Key   string
	Value Value
}

// StringValue, IntValue, DoubleValue and BoolValue build Values.
func StringValue(s string) Value { return Value{Type: TypeString, Str: s} }

// IntValue builds an integer Value.
func IntValue(i int64) Value { return Value{Type: TypeInt, Int: i} }

// DoubleValue builds a floating-point Value.
func DoubleValue(f float64) Value { return Value{Type: TypeDouble, Double: f} }

// BoolValue builds a boolean Value.
func BoolValue(b bool) Value {
	v := Value{Type: TypeBool}
	if b {
		v.Int = 1
	}
	return v
}

// BytesValue builds a bytes Value.
func BytesValue(b []byte) Value { return Value{Type: TypeBytes, Str: string(b)} }

// Bool returns the boolean held by a TypeBool value.
func (v Value) Bool() bool { return v.Int != 0 }

// AsString renders the value the way Jaeger and Zipkin show tags: numbers
// in their shortest form, booleans as true/false, bytes as base64 and
// arrays and maps as JSON. Tag filters compare against this form.
func (v Value) AsString() string {
	switch v.Type {
	case TypeString:
		return v.Str
	case TypeBool:
		return strconv.FormatBool(v.Bool())
	case TypeInt:
		return strconv.FormatInt(v.Int, 10)
	case TypeDouble:
		return formatFloat(v.Double)
	case TypeBytes:
		return base64.StdEncoding.EncodeToString([]byte(v.Str))
	case TypeArray, TypeMap:
		b, _ := json.Marshal(v.jsonable())
		return string(b)
	}
	return ""
}

// AsFloat returns the value as a number when it is one (or a string that
// parses as one), for numeric range conditions.
func (v Value) AsFloat() (float64, bool) {
	switch v.Type {
	case TypeInt:
		return float64(v.Int), true
	case TypeDouble:
		return v.Double, true
	case TypeString:
		f, err := strconv.ParseFloat(v.Str, 64)
		return f, err == nil
	}
	return 0, false
}

func (v Value) jsonable() any {
	switch v.Type {
	case TypeString:
		return v.Str
	case TypeBool:
		return v.Bool()
	case TypeInt:
		return v.Int
	case TypeDouble:
		if math.IsNaN(v.Double) || math.IsInf(v.Double, 0) {
			return formatFloat(v.Double)
		}
		return v.Double
	case TypeBytes:
		return []byte(v.Str)
	case TypeArray:
		a := make([]any, len(v.Array))
		for i, e := range v.Array {
			a[i] = e.jsonable()
		}
		return a
	case TypeMap:
		m := make(map[string]any, len(v.Map))
		for _, kv := range v.Map {
			m[kv.Key] = kv.Value.jsonable()
		}
		return m
	}
	return nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Find returns the value of key in kvs.
func Find(kvs []KeyValue, key string) (Value, bool) {
	for i := range kvs {
		if kvs[i].Key == key {
			return kvs[i].Value, true
		}
	}
	return Value{}, false
}
