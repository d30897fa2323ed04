package otlp

import (
	"github.com/clew-tracing/clew/internal/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ToTraces converts spans to OTLP, grouping spans that share a Resource and
// Scope (by pointer, or by equal content when pointers differ) into one
// ResourceSpans / ScopeSpans, in first-seen order.
func ToTraces(spans []*model.Span) ptrace.Traces {
	td := ptrace.NewTraces()
	type scopeKey struct {
		res   *model.Resource
		scope *model.Scope
	}
	resIdx := map[*model.Resource]ptrace.ResourceSpans{}
	scopeIdx := map[scopeKey]ptrace.SpanSlice{}
	for _, s := range spans {
		res := s.Resource
		if res == nil {
			res = &model.Resource{}
		}
		rs, ok := resIdx[res]
		if !ok {
			rs = td.ResourceSpans().AppendEmpty()
			rs.SetSchemaUrl(res.SchemaURL)
			putAttributes(rs.Resource().Attributes(), res.Attributes)
			if _, has := model.Find(res.Attributes, ServiceNameKey); !has && res.ServiceName != "" {
				rs.Resource().Attributes().PutStr(ServiceNameKey, res.ServiceName)
			}
			resIdx[res] = rs
		}
		sc := s.Scope
		if sc == nil {
			sc = &model.Scope{}
		}
		key := scopeKey{res, sc}
		sl, ok := scopeIdx[key]
		if !ok {
			ss := rs.ScopeSpans().AppendEmpty()
			ss.SetSchemaUrl(sc.SchemaURL)
			ss.Scope().SetName(sc.Name)
			ss.Scope().SetVersion(sc.Version)
			putAttributes(ss.Scope().Attributes(), sc.Attributes)
			sl = ss.Spans()
			scopeIdx[key] = sl
		}
		putSpan(sl.AppendEmpty(), s)
	}
	return td
}

func putSpan(ps ptrace.Span, s *model.Span) {
	ps.SetTraceID(pcommon.TraceID(s.TraceID))
	ps.SetSpanID(pcommon.SpanID(s.SpanID))
	ps.SetParentSpanID(pcommon.SpanID(s.ParentSpanID))
	ps.TraceState().FromRaw(s.TraceState)
	ps.SetFlags(s.Flags)
	ps.SetName(s.Name)
	ps.SetKind(ptrace.SpanKind(s.Kind))
	ps.SetStartTimestamp(pcommon.Timestamp(s.StartUnixNano))
	ps.SetEndTimestamp(pcommon.Timestamp(s.EndUnixNano))
	ps.Status().SetCode(ptrace.StatusCode(s.StatusCode))
	ps.Status().SetMessage(s.StatusMessage)
	putAttributes(ps.Attributes(), s.Attributes)
	ps.SetDroppedAttributesCount(s.DroppedAttributesCount)
	ps.SetDroppedEventsCount(s.DroppedEventsCount)
	ps.SetDroppedLinksCount(s.DroppedLinksCount)
	for _, e := range s.Events {
		pe := ps.Events().AppendEmpty()
		pe.SetTimestamp(pcommon.Timestamp(e.TimeUnixNano))
		pe.SetName(e.Name)
		putAttributes(pe.Attributes(), e.Attributes)
		pe.SetDroppedAttributesCount(e.DroppedAttributesCount)
	}
	for _, l := range s.Links {
		pl := ps.Links().AppendEmpty()
		pl.SetTraceID(pcommon.TraceID(l.TraceID))
		pl.SetSpanID(pcommon.SpanID(l.SpanID))
		pl.TraceState().FromRaw(l.TraceState)
		pl.SetFlags(l.Flags)
		putAttributes(pl.Attributes(), l.Attributes)
		pl.SetDroppedAttributesCount(l.DroppedAttributesCount)
	}
}

func putAttributes(m pcommon.Map, kvs []model.KeyValue) {
	if len(kvs) == 0 {
		return
	}
	m.EnsureCapacity(len(kvs))
	for _, kv := range kvs {
		putValue(m.PutEmpty(kv.Key), kv.Value)
	}
}

func putValue(dst pcommon.Value, v model.Value) {
	switch v.Type {
	case model.TypeString:
		dst.SetStr(v.Str)
	case model.TypeBool:
		dst.SetBool(v.Bool())
	case model.TypeInt:
		dst.SetInt(v.Int)
	case model.TypeDouble:
		dst.SetDouble(v.Double)
	case model.TypeBytes:
		dst.SetEmptyBytes().FromRaw([]byte(v.Str))
	case model.TypeArray:
		sl := dst.SetEmptySlice()
		sl.EnsureCapacity(len(v.Array))
		for _, e := range v.Array {
			putValue(sl.AppendEmpty(), e)
		}
	case model.TypeMap:
		putAttributes(dst.SetEmptyMap(), v.Map)
	}
}
