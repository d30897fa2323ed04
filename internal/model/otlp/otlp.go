// Package otlp converts between OTLP trace data (the collector's pdata
// ptrace types) and Clew's [model.Span].
package otlp

import (
	"math"

	"github.com/clew-tracing/clew/internal/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ServiceNameKey is the resource attribute that names a service.
const ServiceNameKey = "service.name"

// FromTraces converts td to spans. Spans for which keep returns a non-nil
// error are left out and passed to reject with that error, so that a
// receiver can refuse invalid spans one by one and keep the rest. keep and
// reject may be nil.
//
// The spans of one call are allocated together, and so are their
// attribute lists, in a few large slabs rather than two objects per span;
// resources and scopes with equal content share one object, and repeated
// attribute keys, span names and short string values share one string. A
// span converted here therefore keeps its neighbours' memory alive: the
// spans of one request are meant to be stored (and dropped) together.
// Attribute lists have no spare capacity, so appending to one copies it.
func FromTraces(td ptrace.Traces, keep func(*model.Span) error, reject func(*model.Span, error)) []*model.Span {
	n := td.SpanCount()
	c := converter{spans: make([]model.Span, n), kvs: make([]model.KeyValue, countAttributes(td))}
	out := make([]*model.Span, 0, n)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := c.resource(rs.Resource(), rs.SchemaUrl())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := c.scope(ss.Scope(), ss.SchemaUrl())
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := c.span(spans.At(k), res, scope)
				if keep != nil {
					if err := keep(s); err != nil {
						if reject != nil {
							reject(s, err)
						}
						continue
					}
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// countAttributes returns the number of top-level attributes in td: span,
// event, link, resource and scope attributes.
func countAttributes(td ptrace.Traces) int {
	n := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		n += rs.Resource().Attributes().Len()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			n += ss.Scope().Attributes().Len()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				n += sp.Attributes().Len()
				evs := sp.Events()
				for e := 0; e < evs.Len(); e++ {
					n += evs.At(e).Attributes().Len()
				}
				ls := sp.Links()
				for l := 0; l < ls.Len(); l++ {
					n += ls.At(l).Attributes().Len()
				}
			}
		}
	}
	return n
}

// Bounds of a converter's sharing.
const (
	// kvSlabSize is how many attributes a slab holds when the first,
	// sized by countAttributes, runs out (nested maps).
	kvSlabSize = 256
	// maxInternLen is the longest string value shared between spans;
	// longer ones (URLs, statements) rarely repeat exactly.
	maxInternLen = 64
	// maxInterned bounds the strings one call shares, so that a request of
	// unique values cannot grow the table without bound.
	maxInterned = 4096
	// recentObjects is how many resources and scopes a call compares a
	// new one with.
	recentObjects = 8
)

// converter converts the spans of one request.
type converter struct {
	spans  []model.Span // slab, one per span of the request
	next   int
	kvs    []model.KeyValue // current attribute slab
	intern map[string]string
	// recent holds, for each position of a span attribute list, the
	// previous span's key there and the last few short string values seen
	// there: instrumentation sends the same keys in the same order, and
	// many values repeat, so that most strings are shared after a string
	// comparison or two, without hashing.
	recent    []recentStrings
	names     recentStrings
	resources []*model.Resource
	scopes    []*model.Scope
}

// newSpan returns the next span of the slab.
func (c *converter) newSpan() *model.Span {
	if c.next == len(c.spans) {
		// NB: SpanCount was wrong (a concurrent change); fall back.
		return &model.Span{}
	}
	s := &c.spans[c.next]
	c.next++
	return s
}

// kvSlab returns n attributes from the current slab, without spare
// capacity.
func (c *converter) kvSlab(n int) []model.KeyValue {
	if n > len(c.kvs) {
		c.kvs = make([]model.KeyValue, max(n, kvSlabSize))
	}
	s := c.kvs[:n:n]
	c.kvs = c.kvs[n:]
	return s
}

// recentValues is how many recent values a position remembers.
const recentValues = 4

// recentStrings is one position's cache.
type recentStrings struct {
	key  string
	vals [recentValues]string
	next int
}

// value returns s, or an equal string recently seen at this position.
func (r *recentStrings) value(s string) string {
	if len(s) > maxInternLen {
		return s
	}
	for _, v := range r.vals {
		if v == s {
			return v
		}
	}
	r.vals[r.next] = s
	r.next = (r.next + 1) % recentValues
	return s
}

// name returns a span name, shared with every equal name of the call: span
// names are few, and storage compares them often.
func (c *converter) name(s string) string {
	for _, v := range c.names.vals {
		if v == s {
			return v
		}
	}
	s = c.str(s)
	r := &c.names
	r.vals[r.next] = s
	r.next = (r.next + 1) % recentValues
	return s
}

// str returns s, or an equal string seen before in this call.
func (c *converter) str(s string) string {
	if len(s) > maxInternLen {
		return s
	}
	if t, ok := c.intern[s]; ok {
		return t
	}
	if c.intern == nil {
		c.intern = make(map[string]string, 64)
	}
	if len(c.intern) < maxInterned {
		c.intern[s] = s
	}
	return s
}

// resource converts a resource, sharing an equal one converted before.
func (c *converter) resource(r pcommon.Resource, schemaURL string) *model.Resource {
	attrs := r.Attributes()
	for _, x := range c.resources {
		if x.SchemaURL == schemaURL && sameAttributes(attrs, x.Attributes) {
			return x
		}
	}
	res := &model.Resource{Attributes: c.attributes(attrs), SchemaURL: schemaURL}
	if v, ok := attrs.Get(ServiceNameKey); ok {
		res.ServiceName = c.str(v.AsString())
	}
	c.resources = remember(c.resources, res)
	return res
}

// scope converts an instrumentation scope, sharing an equal one converted
// before.
func (c *converter) scope(sc pcommon.InstrumentationScope, schemaURL string) *model.Scope {
	attrs := sc.Attributes()
	for _, x := range c.scopes {
		if x.Name == sc.Name() && x.Version == sc.Version() && x.SchemaURL == schemaURL && sameAttributes(attrs, x.Attributes) {
			return x
		}
	}
	s := &model.Scope{
		Name:       c.str(sc.Name()),
		Version:    c.str(sc.Version()),
		Attributes: c.attributes(attrs),
		SchemaURL:  schemaURL,
	}
	c.scopes = remember(c.scopes, s)
	return s
}

// remember adds x to a list of the recentObjects most recent.
func remember[T any](list []*T, x *T) []*T {
	if len(list) == recentObjects {
		copy(list, list[1:])
		list = list[:recentObjects-1]
	}
	return append(list, x)
}

func (c *converter) span(ps ptrace.Span, res *model.Resource, scope *model.Scope) *model.Span {
	s := c.newSpan()
	*s = model.Span{
		TraceID:                model.TraceID(ps.TraceID()),
		SpanID:                 model.SpanID(ps.SpanID()),
		ParentSpanID:           model.SpanID(ps.ParentSpanID()),
		TraceState:             ps.TraceState().AsRaw(),
		Flags:                  ps.Flags(),
		Name:                   c.name(ps.Name()),
		Kind:                   model.SpanKind(ps.Kind()),
		StartUnixNano:          uint64(ps.StartTimestamp()),
		EndUnixNano:            uint64(ps.EndTimestamp()),
		StatusCode:             model.StatusCode(ps.Status().Code()),
		StatusMessage:          ps.Status().Message(),
		Attributes:             c.spanAttributes(ps.Attributes()),
		DroppedAttributesCount: ps.DroppedAttributesCount(),
		DroppedEventsCount:     ps.DroppedEventsCount(),
		DroppedLinksCount:      ps.DroppedLinksCount(),
		Resource:               res,
		Scope:                  scope,
	}
	if evs := ps.Events(); evs.Len() > 0 {
		s.Events = make([]model.Event, evs.Len())
		for i := range s.Events {
			e := evs.At(i)
			s.Events[i] = model.Event{
				TimeUnixNano:           uint64(e.Timestamp()),
				Name:                   c.str(e.Name()),
				Attributes:             c.attributes(e.Attributes()),
				DroppedAttributesCount: e.DroppedAttributesCount(),
			}
		}
	}
	if ls := ps.Links(); ls.Len() > 0 {
		s.Links = make([]model.Link, ls.Len())
		for i := range s.Links {
			l := ls.At(i)
			s.Links[i] = model.Link{
				TraceID:                model.TraceID(l.TraceID()),
				SpanID:                 model.SpanID(l.SpanID()),
				TraceState:             l.TraceState().AsRaw(),
				Attributes:             c.attributes(l.Attributes()),
				Flags:                  l.Flags(),
				DroppedAttributesCount: l.DroppedAttributesCount(),
			}
		}
	}
	return s
}

// attributes converts an attribute map into a slice of the attribute slab.
func (c *converter) attributes(m pcommon.Map) []model.KeyValue {
	if m.Len() == 0 {
		return nil
	}
	out := c.kvSlab(m.Len())
	i := 0
	m.Range(func(k string, v pcommon.Value) bool {
		if i == len(out) {
			return false // NB: the map changed under us
		}
		out[i] = model.KeyValue{Key: c.str(k), Value: c.value(v, nil)}
		i++
		return true
	})
	return out[:i:i]
}

// spanAttributes is attributes for a span's own list, sharing keys and
// short string values through the positional caches.
func (c *converter) spanAttributes(m pcommon.Map) []model.KeyValue {
	if m.Len() == 0 {
		return nil
	}
	out := c.kvSlab(m.Len())
	if len(c.recent) < len(out) {
		c.recent = append(c.recent, make([]recentStrings, len(out)-len(c.recent))...)
	}
	i := 0
	m.Range(func(k string, v pcommon.Value) bool {
		if i == len(out) {
			return false
		}
		r := &c.recent[i]
		if r.key != k {
			r.key = c.str(k)
		}
		out[i] = model.KeyValue{Key: r.key, Value: c.value(v, r)}
		i++
		return true
	})
	return out[:i:i]
}

// value converts a value; r, when not nil, is the cache of the value's
// position for string values.
func (c *converter) value(v pcommon.Value, r *recentStrings) model.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if r != nil {
			return model.StringValue(r.value(v.Str()))
		}
		return model.StringValue(v.Str())
	case pcommon.ValueTypeBool:
		return model.BoolValue(v.Bool())
	case pcommon.ValueTypeInt:
		return model.IntValue(v.Int())
	case pcommon.ValueTypeDouble:
		return model.DoubleValue(v.Double())
	case pcommon.ValueTypeBytes:
		return model.BytesValue(v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		a := make([]model.Value, sl.Len())
		for i := range a {
			a[i] = c.value(sl.At(i), nil)
		}
		return model.Value{Type: model.TypeArray, Array: a}
	case pcommon.ValueTypeMap:
		return model.Value{Type: model.TypeMap, Map: c.attributes(v.Map())}
	}
	return model.Value{}
}

// sameAttributes reports whether m holds exactly kvs, in order, with
// scalar values only (nested values are never considered equal, which only
// costs a copy).
func sameAttributes(m pcommon.Map, kvs []model.KeyValue) bool {
	if m.Len() != len(kvs) {
		return false
	}
	i, same := 0, true
	m.Range(func(k string, v pcommon.Value) bool {
		if i == len(kvs) || kvs[i].Key != k || !sameValue(v, &kvs[i].Value) {
			same = false
			return false
		}
		i++
		return true
	})
	return same && i == len(kvs)
}

func sameValue(v pcommon.Value, w *model.Value) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return w.Type == model.TypeString && w.Str == v.Str()
	case pcommon.ValueTypeBool:
		return w.Type == model.TypeBool && w.Bool() == v.Bool()
	case pcommon.ValueTypeInt:
		return w.Type == model.TypeInt && w.Int == v.Int()
	case pcommon.ValueTypeDouble:
		// NB: bitwise, so that NaN, 0 and -0 keep their bits.
		return w.Type == model.TypeDouble && math.Float64bits(w.Double) == math.Float64bits(v.Double())
	case pcommon.ValueTypeEmpty:
		return w.Type == model.TypeEmpty
	}
	return false
}
