package clickhouse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/clew-tracing/clew/internal/model"
)

// The span column holds each span whole, in the format below, so that a
// trace read back is exactly the trace written (every attribute type,
// events, links, dropped counts, resource and scope). The flat columns
// beside it exist for searching and never have to be decoded into spans.
// docs/format/clickhouse-span.md draws the layout; change both together and
// bump spanFormatVersion on any incompatible change.
const (
	// spanFormatVersion is the first byte of every encoded span.
	spanFormatVersion byte = 1
	// maxValueDepth bounds the nesting of array and map values, so that a
	// corrupt row cannot exhaust the decoder's stack.
	maxValueDepth = 64
)

// Value type tags. They equal model.ValueType's numbers today but are
// spelled out so that a change to the model cannot silently change the
// stored format.
const (
	tagEmpty  byte = 0
	tagString byte = 1
	tagBool   byte = 2
	tagInt    byte = 3
	tagDouble byte = 4
	tagBytes  byte = 5
	tagArray  byte = 6
	tagMap    byte = 7
)

// errBadSpan wraps every decoding failure.
var errBadSpan = errors.New("bad stored span")

// appendSpan appends the encoding of s to dst.
func appendSpan(dst []byte, s *model.Span) []byte {
	dst = append(dst, spanFormatVersion)
	dst = append(dst, s.TraceID[:]...)
	dst = append(dst, s.SpanID[:]...)
	dst = append(dst, s.ParentSpanID[:]...)
	dst = appendString(dst, s.TraceState)
	dst = binary.AppendUvarint(dst, uint64(s.Flags))
	dst = appendString(dst, s.Name)
	dst = append(dst, byte(s.Kind), byte(s.StatusCode))
	dst = binary.AppendUvarint(dst, s.StartUnixNano)
	dst = binary.AppendUvarint(dst, s.EndUnixNano)
	dst = appendString(dst, s.StatusMessage)
	dst = appendKVs(dst, s.Attributes)
	dst = binary.AppendUvarint(dst, uint64(s.DroppedAttributesCount))
	dst = binary.AppendUvarint(dst, uint64(s.DroppedEventsCount))
	dst = binary.AppendUvarint(dst, uint64(s.DroppedLinksCount))
	dst = binary.AppendUvarint(dst, uint64(len(s.Events)))
	for i := range s.Events {
		e := &s.Events[i]
		dst = binary.AppendUvarint(dst, e.TimeUnixNano)
		dst = appendString(dst, e.Name)
		dst = appendKVs(dst, e.Attributes)
		dst = binary.AppendUvarint(dst, uint64(e.DroppedAttributesCount))
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.Links)))
	for i := range s.Links {
		l := &s.Links[i]
		dst = append(dst, l.TraceID[:]...)
		dst = append(dst, l.SpanID[:]...)
		dst = appendString(dst, l.TraceState)
		dst = appendKVs(dst, l.Attributes)
		dst = binary.AppendUvarint(dst, uint64(l.Flags))
		dst = binary.AppendUvarint(dst, uint64(l.DroppedAttributesCount))
	}
	if r := s.Resource; r != nil {
		dst = append(dst, 1)
		dst = appendString(dst, r.ServiceName)
		dst = appendKVs(dst, r.Attributes)
		dst = appendString(dst, r.SchemaURL)
	} else {
		dst = append(dst, 0)
	}
	if sc := s.Scope; sc != nil {
		dst = append(dst, 1)
		dst = appendString(dst, sc.Name)
		dst = appendString(dst, sc.Version)
		dst = appendKVs(dst, sc.Attributes)
		dst = appendString(dst, sc.SchemaURL)
	} else {
		dst = append(dst, 0)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendKVs(dst []byte, kvs []model.KeyValue) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(kvs)))
	for i := range kvs {
		dst = appendString(dst, kvs[i].Key)
		dst = appendValue(dst, &kvs[i].Value)
	}
	return dst
}

func appendValue(dst []byte, v *model.Value) []byte {
	switch v.Type {
	case model.TypeString:
		dst = append(dst, tagString)
		return appendString(dst, v.Str)
	case model.TypeBytes:
		dst = append(dst, tagBytes)
		return appendString(dst, v.Str)
	case model.TypeBool:
		dst = append(dst, tagBool)
		return binary.AppendVarint(dst, v.Int)
	case model.TypeInt:
		dst = append(dst, tagInt)
		return binary.AppendVarint(dst, v.Int)
	case model.TypeDouble:
		dst = append(dst, tagDouble)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Double))
	case model.TypeArray:
		dst = append(dst, tagArray)
		dst = binary.AppendUvarint(dst, uint64(len(v.Array)))
		for i := range v.Array {
			dst = appendValue(dst, &v.Array[i])
		}
		return dst
	case model.TypeMap:
		dst = append(dst, tagMap)
		return appendKVs(dst, v.Map)
	}
	return append(dst, tagEmpty)
}

// spanDecoder reads encoded spans. Its zero value is ready to use.
type spanDecoder struct {
	b   []byte
	err error
}

// decodeSpan decodes one span encoded by appendSpan.
func decodeSpan(b []byte) (*model.Span, error) {
	d := spanDecoder{b: b}
	if v := d.byte(); v != spanFormatVersion {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("%w: format version %d, want %d", errBadSpan, v, spanFormatVersion)
	}
	s := &model.Span{}
	d.fixed(s.TraceID[:])
	d.fixed(s.SpanID[:])
	d.fixed(s.ParentSpanID[:])
	s.TraceState = d.string()
	s.Flags = d.uint32()
	s.Name = d.string()
	s.Kind = model.SpanKind(d.byte())
	s.StatusCode = model.StatusCode(d.byte())
	s.StartUnixNano = d.uvarint()
	s.EndUnixNano = d.uvarint()
	s.StatusMessage = d.string()
	s.Attributes = d.kvs(0)
	s.DroppedAttributesCount = d.uint32()
	s.DroppedEventsCount = d.uint32()
	s.DroppedLinksCount = d.uint32()
	if n := d.count(); n > 0 {
		s.Events = make([]model.Event, n)
		for i := range s.Events {
			e := &s.Events[i]
			e.TimeUnixNano = d.uvarint()
			e.Name = d.string()
			e.Attributes = d.kvs(0)
			e.DroppedAttributesCount = d.uint32()
		}
	}
	if n := d.count(); n > 0 {
		s.Links = make([]model.Link, n)
		for i := range s.Links {
			l := &s.Links[i]
			d.fixed(l.TraceID[:])
			d.fixed(l.SpanID[:])
			l.TraceState = d.string()
			l.Attributes = d.kvs(0)
			l.Flags = d.uint32()
			l.DroppedAttributesCount = d.uint32()
		}
	}
	if d.byte() == 1 {
		s.Resource = &model.Resource{ServiceName: d.string(), Attributes: d.kvs(0), SchemaURL: d.string()}
	}
	if d.byte() == 1 {
		s.Scope = &model.Scope{Name: d.string(), Version: d.string(), Attributes: d.kvs(0), SchemaURL: d.string()}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

func (d *spanDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errBadSpan, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *spanDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *spanDecoder) fixed(dst []byte) {
	if len(d.b) < len(dst) {
		d.fail("truncated")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

func (d *spanDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spanDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spanDecoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail("count %d out of range", v)
		return 0
	}
	return uint32(v)
}

// count reads a length that must fit in what is left of the input (every
// element takes at least one byte).
func (d *spanDecoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail("length %d beyond the %d bytes left", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *spanDecoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *spanDecoder) kvs(depth int) []model.KeyValue {
	n := d.count()
	if n == 0 {
		return nil
	}
	kvs := make([]model.KeyValue, n)
	for i := range kvs {
		kvs[i].Key = d.string()
		kvs[i].Value = d.value(depth)
	}
	return kvs
}

func (d *spanDecoder) value(depth int) model.Value {
	if depth > maxValueDepth {
		d.fail("values nested deeper than %d", maxValueDepth)
		return model.Value{}
	}
	switch t := d.byte(); t {
	case tagEmpty:
		return model.Value{}
	case tagString:
		return model.Value{Type: model.TypeString, Str: d.string()}
	case tagBytes:
		return model.Value{Type: model.TypeBytes, Str: d.string()}
	case tagBool:
		return model.Value{Type: model.TypeBool, Int: d.varint()}
	case tagInt:
		return model.Value{Type: model.TypeInt, Int: d.varint()}
	case tagDouble:
		if len(d.b) < 8 {
			d.fail("truncated")
			return model.Value{}
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return model.Value{Type: model.TypeDouble, Double: f}
	case tagArray:
		n := d.count()
		v := model.Value{Type: model.TypeArray, Array: make([]model.Value, n)}
		for i := range v.Array {
			v.Array[i] = d.value(depth + 1)
		}
		return v
	case tagMap:
		return model.Value{Type: model.TypeMap, Map: d.kvs(depth + 1)}
	default:
		d.fail("unknown value tag %d", t)
		return model.Value{}
	}
}
