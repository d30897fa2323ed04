package block

import (
	"fmt"
	"math"

	"github.com/clew-tracing/clew/internal/model"
)

// This file holds the row-oriented ("inline") encoding of attribute values,
// used where values are few (resource and scope dictionaries) or rare
// (nested arrays and maps inside attribute columns):
//
//	value  = type:u8 payload
//	empty  = -
//	string = uvarint(len) bytes        (also bytes)
//	bool   = zigzag-uvarint(Int)       (also int)
//	double = u64le(float bits)
//	array  = uvarint(n) n*value
//	map    = uvarint(n) n*(uvarint(len) key value)

// checkValue reports a value that the format cannot store: an unknown type
// or nesting deeper than maxValueDepth.
func checkValue(v *model.Value, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("attribute value nested deeper than %d", maxValueDepth)
	}
	switch v.Type {
	case model.TypeEmpty, model.TypeString, model.TypeBool, model.TypeInt, model.TypeDouble, model.TypeBytes:
		return nil
	case model.TypeArray:
		for i := range v.Array {
			if err := checkValue(&v.Array[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	case model.TypeMap:
		return checkKVs(v.Map, depth+1)
	}
	return fmt.Errorf("unknown attribute value type %d", v.Type)
}

func checkKVs(kvs []model.KeyValue, depth int) error {
	for i := range kvs {
		if kvs[i].Value.Type <= model.TypeBytes {
			continue // scalar: nothing to check
		}
		if err := checkValue(&kvs[i].Value, depth); err != nil {
			return fmt.Errorf("attribute %q: %w", kvs[i].Key, err)
		}
	}
	return nil
}

// appendValue appends the inline encoding of a value already accepted by
// checkValue.
func appendValue(b []byte, v *model.Value) []byte {
	b = append(b, byte(v.Type))
	switch v.Type {
	case model.TypeString, model.TypeBytes:
		b = appendBytes(b, v.Str)
	case model.TypeBool, model.TypeInt:
		b = appendUvarint(b, zigzag(v.Int))
	case model.TypeDouble:
		b = appendU64(b, math.Float64bits(v.Double))
	case model.TypeArray:
		b = appendUvarint(b, uint64(len(v.Array)))
		for i := range v.Array {
			b = appendValue(b, &v.Array[i])
		}
	case model.TypeMap:
		b = appendUvarint(b, uint64(len(v.Map)))
		for i := range v.Map {
			b = appendBytes(b, v.Map[i].Key)
			b = appendValue(b, &v.Map[i].Value)
		}
	}
	return b
}

// readValue decodes one inline value. Empty arrays and maps decode as nil
// slices.
func readValue(r *reader, depth int) model.Value {
	if depth > maxValueDepth {
		r.fail()
		return model.Value{}
	}
	t := model.ValueType(r.byte())
	v := model.Value{Type: t}
	switch t {
	case model.TypeEmpty:
	case model.TypeString, model.TypeBytes:
		v.Str = string(r.lenBytes())
	case model.TypeBool, model.TypeInt:
		v.Int = r.varint()
	case model.TypeDouble:
		v.Double = math.Float64frombits(r.u64())
	case model.TypeArray:
		n := r.count(1)
		if n > 0 {
			v.Array = make([]model.Value, n)
			for i := range v.Array {
				v.Array[i] = readValue(r, depth+1)
			}
		}
	case model.TypeMap:
		n := r.count(2)
		if n > 0 {
			v.Map = make([]model.KeyValue, n)
			for i := range v.Map {
				v.Map[i].Key = string(r.lenBytes())
				v.Map[i].Value = readValue(r, depth+1)
			}
		}
	default:
		r.fail()
	}
	if r.err != nil {
		return model.Value{}
	}
	return v
}

// cloneValue deep-copies a value so that a caller may modify the copy.
func cloneValue(v model.Value) model.Value {
	switch v.Type {
	case model.TypeArray:
		if v.Array != nil {
			a := make([]model.Value, len(v.Array))
			for i := range a {
				a[i] = cloneValue(v.Array[i])
			}
			v.Array = a
		}
	case model.TypeMap:
		v.Map = cloneKVs(v.Map)
	}
	return v
}

func cloneKVs(kvs []model.KeyValue) []model.KeyValue {
	if kvs == nil {
		return nil
	}
	out := make([]model.KeyValue, len(kvs))
	for i := range kvs {
		out[i] = model.KeyValue{Key: kvs[i].Key, Value: cloneValue(kvs[i].Value)}
	}
	return out
}
