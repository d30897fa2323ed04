// Package otlp converts between OTLP trace data (the collector's pdata
// ptrace types) and Clew's [model.Span].
package otlp

import (
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
func FromTraces(td ptrace.Traces, keep func(*model.Span) error, reject func(*model.Span, error)) []*model.Span {
	out := make([]*model.Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := &model.Resource{
			Attributes: attributes(rs.Resource().Attributes()),
			SchemaURL:  rs.SchemaUrl(),
		}
		if v, ok := rs.Resource().Attributes().Get(ServiceNameKey); ok {
			res.ServiceName = v.AsString()
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			sc := ss.Scope()
			scope := &model.Scope{
				Name:       sc.Name(),
				Version:    sc.Version(),
				Attributes: attributes(sc.Attributes()),
				SchemaURL:  ss.SchemaUrl(),
			}
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s := span(spans.At(k), res, scope)
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

func span(ps ptrace.Span, res *model.Resource, scope *model.Scope) *model.Span {
	s := &model.Span{
		TraceID:                model.TraceID(ps.TraceID()),
		SpanID:                 model.SpanID(ps.SpanID()),
		ParentSpanID:           model.SpanID(ps.ParentSpanID()),
		TraceState:             ps.TraceState().AsRaw(),
		Flags:                  ps.Flags(),
		Name:                   ps.Name(),
		Kind:                   model.SpanKind(ps.Kind()),
		StartUnixNano:          uint64(ps.StartTimestamp()),
		EndUnixNano:            uint64(ps.EndTimestamp()),
		StatusCode:             model.StatusCode(ps.Status().Code()),
		StatusMessage:          ps.Status().Message(),
		Attributes:             attributes(ps.Attributes()),
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
				Name:                   e.Name(),
				Attributes:             attributes(e.Attributes()),
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
				Attributes:             attributes(l.Attributes()),
				Flags:                  l.Flags(),
				DroppedAttributesCount: l.DroppedAttributesCount(),
			}
		}
	}
	return s
}

func attributes(m pcommon.Map) []model.KeyValue {
	if m.Len() == 0 {
		return nil
	}
	out := make([]model.KeyValue, 0, m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, model.KeyValue{Key: k, Value: value(v)})
		return true
	})
	return out
}

func value(v pcommon.Value) model.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
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
			a[i] = value(sl.At(i))
		}
		return model.Value{Type: model.TypeArray, Array: a}
	case pcommon.ValueTypeMap:
		return model.Value{Type: model.TypeMap, Map: attributes(v.Map())}
	}
	return model.Value{}
}
