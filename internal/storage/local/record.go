package local

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/clew-tracing/clew/internal/model"
)

// WAL record format constants. The layout is documented with byte diagrams
// in docs/format/wal-record.md; change both together and bump
// recordVersion on any incompatible change.
const (
	// recordVersion is the first byte of every record.
	recordVersion byte = 1
	// traceIDSize and spanIDSize are the fixed widths of IDs in a record.
	traceIDSize = 16
	spanIDSize  = 8
	// float64Size is the width of a double value (IEEE 754, little endian).
	float64Size = 8
	// maxValueDepth bounds the nesting of array and map values, so that a
	// hostile record cannot exhaust the decoder's stack.
	maxValueDepth = 64
	// maxRecordBytes is the size at which a batch is split into several
	// records; it stays well below wal.MaxRecordSize so that one record
	// never has to be rejected.
	maxRecordBytes = 16 << 20
)

// Value type tags in a record. They equal model.ValueType's numbers today,
// but are spelled out so that a change to the model cannot silently change
// the format.
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

// Decoding errors. Every decoding failure wraps errBadRecord.
var (
	errBadRecord      = errors.New("bad wal record")
	errRecordTooLarge = errors.New("span too large for one wal record")
)

// recordEncoder turns a batch of spans into a record. It keeps its scratch
// maps between batches; it is not safe for concurrent use (the DB pools them).
type recordEncoder struct {
	buf       []byte
	resources map[*model.Resource]uint64
	scopes    map[*model.Scope]uint64
	resList   []*model.Resource
	scopeList []*model.Scope
	out       []recordChunk
}

// newRecordEncoder returns an empty encoder.
func newRecordEncoder() *recordEncoder {
	return &recordEncoder{
		resources: make(map[*model.Resource]uint64),
		scopes:    make(map[*model.Scope]uint64),
	}
}

// reset forgets the previous batch but keeps the allocated memory.
func (e *recordEncoder) reset() {
	e.buf = e.buf[:0]
	clear(e.resources)
	clear(e.scopes)
	clear(e.resList)
	clear(e.scopeList)
	e.resList = e.resList[:0]
	e.scopeList = e.scopeList[:0]
}

// maxRetainedEncoderBuffer caps the buffer a pooled encoder keeps, so that
// one huge batch does not pin memory forever.
const maxRetainedEncoderBuffer = 4 << 20

// trim drops references to the last batch, and the buffer if it grew
// large, before the encoder goes back to its pool.
func (e *recordEncoder) trim() {
	e.reset()
	clear(e.out)
	e.out = e.out[:0]
	if cap(e.buf) > maxRetainedEncoderBuffer {
		e.buf = nil
	}
}

// encode returns the record of spans. The result aliases the encoder's
// buffer and is valid until the next call.
//
// Resources and scopes are deduplicated by pointer: spans converted from one
// OTLP ResourceSpans share them, so the record carries each once.
func (e *recordEncoder) encode(spans []*model.Span) []byte {
	e.reset()
	for _, s := range spans {
		if s.Resource != nil {
			if _, ok := e.resources[s.Resource]; !ok {
				e.resources[s.Resource] = uint64(len(e.resList)) + 1
				e.resList = append(e.resList, s.Resource)
			}
		}
		if s.Scope != nil {
			if _, ok := e.scopes[s.Scope]; !ok {
				e.scopes[s.Scope] = uint64(len(e.scopeList)) + 1
				e.scopeList = append(e.scopeList, s.Scope)
			}
		}
	}
	b := append(e.buf, recordVersion)
	b = binary.AppendUvarint(b, uint64(len(e.resList)))
	for _, r := range e.resList {
		b = appendString(b, r.ServiceName)
		b = appendKeyValues(b, r.Attributes)
		b = appendString(b, r.SchemaURL)
	}
	b = binary.AppendUvarint(b, uint64(len(e.scopeList)))
	for _, sc := range e.scopeList {
		b = appendString(b, sc.Name)
		b = appendString(b, sc.Version)
		b = appendKeyValues(b, sc.Attributes)
		b = appendString(b, sc.SchemaURL)
	}
	b = binary.AppendUvarint(b, uint64(len(spans)))
	for _, s := range spans {
		b = e.appendSpan(b, s)
	}
	e.buf = b
	return b
}

// appendSpan appends one span; its resource and scope are written as
// 1-based indexes into the record's tables, 0 meaning none.
func (e *recordEncoder) appendSpan(b []byte, s *model.Span) []byte {
	b = append(b, s.TraceID[:]...)
	b = append(b, s.SpanID[:]...)
	b = append(b, s.ParentSpanID[:]...)
	var ri, si uint64
	if s.Resource != nil {
		ri = e.resources[s.Resource]
	}
	if s.Scope != nil {
		si = e.scopes[s.Scope]
	}
	b = binary.AppendUvarint(b, ri)
	b = binary.AppendUvarint(b, si)
	b = appendString(b, s.TraceState)
	b = binary.AppendUvarint(b, uint64(s.Flags))
	b = appendString(b, s.Name)
	b = append(b, byte(s.Kind))
	b = binary.AppendUvarint(b, s.StartUnixNano)
	// NB: the end is stored as a difference from the start, which is
	// short for real spans; wrapping arithmetic keeps any pair exact.
	b = binary.AppendVarint(b, int64(s.EndUnixNano-s.StartUnixNano))
	b = append(b, byte(s.StatusCode))
	b = appendString(b, s.StatusMessage)
	b = appendKeyValues(b, s.Attributes)
	b = binary.AppendUvarint(b, uint64(len(s.Events)))
	for i := range s.Events {
		ev := &s.Events[i]
		b = binary.AppendVarint(b, int64(ev.TimeUnixNano-s.StartUnixNano))
		b = appendString(b, ev.Name)
		b = appendKeyValues(b, ev.Attributes)
		b = binary.AppendUvarint(b, uint64(ev.DroppedAttributesCount))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Links)))
	for i := range s.Links {
		l := &s.Links[i]
		b = append(b, l.TraceID[:]...)
		b = append(b, l.SpanID[:]...)
		b = appendString(b, l.TraceState)
		b = binary.AppendUvarint(b, uint64(l.Flags))
		b = appendKeyValues(b, l.Attributes)
		b = binary.AppendUvarint(b, uint64(l.DroppedAttributesCount))
	}
	b = binary.AppendUvarint(b, uint64(s.DroppedAttributesCount))
	b = binary.AppendUvarint(b, uint64(s.DroppedEventsCount))
	b = binary.AppendUvarint(b, uint64(s.DroppedLinksCount))
	return b
}

// appendString appends a length-prefixed string.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendKeyValues appends a count followed by key/value pairs.
func appendKeyValues(b []byte, kvs []model.KeyValue) []byte {
	b = binary.AppendUvarint(b, uint64(len(kvs)))
	for i := range kvs {
		b = appendString(b, kvs[i].Key)
		b = appendValue(b, &kvs[i].Value)
	}
	return b
}

// appendValue appends a type tag and the value's payload.
func appendValue(b []byte, v *model.Value) []byte {
	switch v.Type {
	case model.TypeString:
		b = append(b, tagString)
		return appendString(b, v.Str)
	case model.TypeBool:
		b = append(b, tagBool)
		if v.Int != 0 {
			return append(b, 1)
		}
		return append(b, 0)
	case model.TypeInt:
		b = append(b, tagInt)
		return binary.AppendVarint(b, v.Int)
	case model.TypeDouble:
		b = append(b, tagDouble)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Double))
	case model.TypeBytes:
		b = append(b, tagBytes)
		return appendString(b, v.Str)
	case model.TypeArray:
		b = append(b, tagArray)
		b = binary.AppendUvarint(b, uint64(len(v.Array)))
		for i := range v.Array {
			b = appendValue(b, &v.Array[i])
		}
		return b
	case model.TypeMap:
		b = append(b, tagMap)
		return appendKeyValues(b, v.Map)
	}
	// NB: an unknown type is stored as empty rather than failing the
	// whole batch; the model has no other types today.
	return append(b, tagEmpty)
}

// recordChunk is one WAL record and the spans it holds.
type recordChunk struct {
	rec   []byte
	spans []*model.Span
}

// chunks encodes spans into records of at most maxBytes each, splitting
// the batch in halves until every part fits. A batch that fits (the usual
// case) yields one record that aliases the encoder's buffer; split parts
// are copied. The result is valid until the encoder's next use. A single
// span that alone exceeds maxBytes is an error.
func (e *recordEncoder) chunks(spans []*model.Span, maxBytes int) ([]recordChunk, error) {
	e.out = e.out[:0]
	rec := e.encode(spans)
	if len(rec) <= maxBytes {
		e.out = append(e.out, recordChunk{rec: rec, spans: spans})
		return e.out, nil
	}
	if err := e.split(spans, maxBytes); err != nil {
		return nil, err
	}
	return e.out, nil
}

// split appends the records of spans to e.out, halving until they fit.
func (e *recordEncoder) split(spans []*model.Span, maxBytes int) error {
	rec := e.encode(spans)
	if len(rec) <= maxBytes {
		e.out = append(e.out, recordChunk{rec: bytes.Clone(rec), spans: spans})
		return nil
	}
	if len(spans) == 1 {
		return fmt.Errorf("%w: %d bytes, max %d", errRecordTooLarge, len(rec), maxBytes)
	}
	half := len(spans) / 2
	if err := e.split(spans[:half], maxBytes); err != nil {
		return err
	}
	return e.split(spans[half:], maxBytes)
}

// decodeRecord parses a record. The input is untrusted (a WAL can be
// damaged in ways its CRC does not catch, or written by a newer version):
// every length and count is checked against the bytes that remain, so a bad
// record yields an error wrapping errBadRecord, never a panic or a huge
// allocation.
//
// The record is copied once into a string that every decoded string
// points into, so decoding allocates per span, not per attribute.
func decodeRecord(rec []byte) ([]*model.Span, error) {
	d := recordDecoder{s: string(rec), budget: len(rec)}
	spans := d.record()
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w at offset %d", errBadRecord, d.err, d.off)
	}
	if d.off != len(d.s) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(d.s)-d.off)
	}
	return spans, nil
}

// Decoder failures, wrapped in errBadRecord.
var (
	errShort        = errors.New("unexpected end of record")
	errVarint       = errors.New("bad varint")
	errVersion      = errors.New("unsupported record version")
	errCount        = errors.New("count exceeds record size")
	errIndex        = errors.New("resource or scope index out of range")
	errValueTag     = errors.New("unknown value type")
	errValueDepth   = errors.New("values nested too deeply")
	errUint32       = errors.New("number does not fit 32 bits")
	errBoolEncoding = errors.New("bool is neither 0 nor 1")
)

// recordDecoder reads a record with a sticky error: after the first
// failure every read returns a zero value, and the caller checks err once.
type recordDecoder struct {
	s   string
	off int
	err error
	// budget is how many more elements (resources, scopes, spans,
	// events, links, attributes, array items) counts may announce.
	budget int
}

// fail records the first error.
func (d *recordDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// remaining returns the number of unread bytes.
func (d *recordDecoder) remaining() int { return len(d.s) - d.off }

// record decodes the whole record.
func (d *recordDecoder) record() []*model.Span {
	if v := d.byte(); d.err == nil && v != recordVersion {
		d.fail(fmt.Errorf("%w %d", errVersion, v))
	}
	// Each resource and scope takes at least 3 and 4 bytes, each span
	// far more: a count is checked against the remaining bytes before
	// anything is allocated.
	nres := d.count(3)
	resources := make([]model.Resource, nres)
	for i := range resources {
		r := &resources[i]
		r.ServiceName = d.string()
		r.Attributes = d.keyValues(0)
		r.SchemaURL = d.string()
	}
	nscope := d.count(4)
	scopes := make([]model.Scope, nscope)
	for i := range scopes {
		sc := &scopes[i]
		sc.Name = d.string()
		sc.Version = d.string()
		sc.Attributes = d.keyValues(0)
		sc.SchemaURL = d.string()
	}
	nspan := d.count(traceIDSize + 2*spanIDSize)
	if d.err != nil {
		return nil
	}
	// NB: one slab for all spans of the record: they live and die
	// together in the head, so the slab costs nothing extra and saves an
	// allocation per span.
	slab := make([]model.Span, nspan)
	spans := make([]*model.Span, nspan)
	for i := range slab {
		s := &slab[i]
		d.span(s, resources, scopes)
		if d.err != nil {
			return nil
		}
		spans[i] = s
	}
	return spans
}

// span decodes one span into s.
func (d *recordDecoder) span(s *model.Span, resources []model.Resource, scopes []model.Scope) {
	d.fixed(s.TraceID[:])
	d.fixed(s.SpanID[:])
	d.fixed(s.ParentSpanID[:])
	if ri := d.uvarint(); ri > 0 {
		if ri > uint64(len(resources)) {
			d.fail(errIndex)
			return
		}
		s.Resource = &resources[ri-1]
	}
	if si := d.uvarint(); si > 0 {
		if si > uint64(len(scopes)) {
			d.fail(errIndex)
			return
		}
		s.Scope = &scopes[si-1]
	}
	s.TraceState = d.string()
	s.Flags = d.uint32()
	s.Name = d.string()
	s.Kind = model.SpanKind(d.byte())
	s.StartUnixNano = d.uvarint()
	s.EndUnixNano = s.StartUnixNano + uint64(d.varint())
	s.StatusCode = model.StatusCode(d.byte())
	s.StatusMessage = d.string()
	s.Attributes = d.keyValues(0)
	// An event takes at least 4 bytes, a link at least 28.
	if n := d.count(4); n > 0 {
		s.Events = make([]model.Event, n)
		for i := range s.Events {
			ev := &s.Events[i]
			ev.TimeUnixNano = s.StartUnixNano + uint64(d.varint())
			ev.Name = d.string()
			ev.Attributes = d.keyValues(0)
			ev.DroppedAttributesCount = d.uint32()
		}
	}
	if n := d.count(traceIDSize + spanIDSize + 4); n > 0 {
		s.Links = make([]model.Link, n)
		for i := range s.Links {
			l := &s.Links[i]
			d.fixed(l.TraceID[:])
			d.fixed(l.SpanID[:])
			l.TraceState = d.string()
			l.Flags = d.uint32()
			l.Attributes = d.keyValues(0)
			l.DroppedAttributesCount = d.uint32()
		}
	}
	s.DroppedAttributesCount = d.uint32()
	s.DroppedEventsCount = d.uint32()
	s.DroppedLinksCount = d.uint32()
}

// keyValues decodes a counted list of key/value pairs; nil when empty.
func (d *recordDecoder) keyValues(depth int) []model.KeyValue {
	// A pair takes at least two bytes: an empty key and a type tag.
	n := d.count(2)
	if n == 0 {
		return nil
	}
	kvs := make([]model.KeyValue, n)
	for i := range kvs {
		kvs[i].Key = d.string()
		d.value(&kvs[i].Value, depth)
		if d.err != nil {
			return nil
		}
	}
	return kvs
}

// value decodes one tagged value into v.
func (d *recordDecoder) value(v *model.Value, depth int) {
	if depth >= maxValueDepth {
		d.fail(errValueDepth)
		return
	}
	switch tag := d.byte(); tag {
	case tagEmpty:
		v.Type = model.TypeEmpty
	case tagString:
		v.Type, v.Str = model.TypeString, d.string()
	case tagBool:
		v.Type = model.TypeBool
		switch d.byte() {
		case 0:
		case 1:
			v.Int = 1
		default:
			d.fail(errBoolEncoding)
		}
	case tagInt:
		v.Type, v.Int = model.TypeInt, d.varint()
	case tagDouble:
		v.Type = model.TypeDouble
		if d.remaining() < float64Size {
			d.fail(errShort)
			return
		}
		var u uint64
		for i := float64Size - 1; i >= 0; i-- {
			u = u<<8 | uint64(d.s[d.off+i])
		}
		v.Double = math.Float64frombits(u)
		d.off += float64Size
	case tagBytes:
		v.Type, v.Str = model.TypeBytes, d.string()
	case tagArray:
		v.Type = model.TypeArray
		if n := d.count(1); n > 0 {
			v.Array = make([]model.Value, n)
			for i := range v.Array {
				d.value(&v.Array[i], depth+1)
				if d.err != nil {
					return
				}
			}
		}
	case tagMap:
		v.Type = model.TypeMap
		v.Map = d.keyValues(depth + 1)
	default:
		if d.err == nil {
			d.fail(fmt.Errorf("%w %d", errValueTag, tag))
		}
	}
}

// byte reads one byte.
func (d *recordDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.s) {
		d.fail(errShort)
		return 0
	}
	b := d.s[d.off]
	d.off++
	return b
}

// fixed fills dst with the next len(dst) bytes.
func (d *recordDecoder) fixed(dst []byte) {
	if d.err != nil {
		return
	}
	if d.remaining() < len(dst) {
		d.fail(errShort)
		return
	}
	d.off += copy(dst, d.s[d.off:])
}

// uvarint reads an unsigned varint.
func (d *recordDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for i := 0; ; i++ {
		if d.off >= len(d.s) {
			d.fail(errShort)
			return 0
		}
		c := d.s[d.off]
		d.off++
		if i == binary.MaxVarintLen64-1 && c > 1 || i == binary.MaxVarintLen64 {
			d.fail(errVarint)
			return 0
		}
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
}

// varint reads a zig-zag signed varint.
func (d *recordDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// uint32 reads an unsigned varint that must fit 32 bits.
func (d *recordDecoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail(errUint32)
		return 0
	}
	return uint32(v)
}

// count reads an element count, each element taking at least minSize
// bytes, and fails when the rest of the record cannot hold that many.
//
// NB: the remaining-bytes check alone would let nested containers each
// claim the whole rest of the record, allocating depth times its size
// before failing; the element budget caps all counts together at one
// element per byte of the record.
func (d *recordDecoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(d.remaining()/minSize) || n > uint64(d.budget) {
		d.fail(errCount)
		return 0
	}
	d.budget -= int(n)
	return int(n)
}

// string reads a length-prefixed string, sharing the record's memory.
func (d *recordDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.remaining()) {
		d.fail(errShort)
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}
