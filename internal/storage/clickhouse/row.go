package clickhouse

import (
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// attrNumeric is set in an attr_types entry when the value is a number, or a
// string that parses as one (model.Value.AsFloat), so that numeric
// conditions compare it numerically; the low bits are the model.ValueType.
const attrNumeric = 0x80

// row is the flat form of one span, reused from span to span.
type row struct {
	traceID, spanID, parentID string
	service                   string
	scopeName, scopeVersion   string
	scopes                    []uint8
	keys                      []string
	types                     []uint8
	strs                      []string
	nums                      []float64
	blob                      []byte
}

// set fills r from s. Every attribute the Jaeger tag filter can see goes
// into the parallel arrays, tagged with its scope: span, resource,
// instrumentation scope, each event's and each link's.
func (r *row) set(s *model.Span) {
	r.traceID = string(s.TraceID[:])
	r.spanID = string(s.SpanID[:])
	r.parentID = string(s.ParentSpanID[:])
	r.service = s.Service()
	r.scopeName, r.scopeVersion = "", ""
	if s.Scope != nil {
		r.scopeName, r.scopeVersion = s.Scope.Name, s.Scope.Version
	}
	// NB: the driver keeps no reference to the slices after Append, so
	// they are reused; fresh ones would cost five allocations a span.
	r.scopes, r.keys, r.types, r.strs, r.nums = r.scopes[:0], r.keys[:0], r.types[:0], r.strs[:0], r.nums[:0]
	storage.EachAttribute(s, func(scope storage.AttrScope, kv *model.KeyValue) {
		r.scopes = append(r.scopes, uint8(scope))
		r.keys = append(r.keys, kv.Key)
		t := uint8(kv.Value.Type)
		f, ok := kv.Value.AsFloat()
		if ok {
			t |= attrNumeric
		}
		r.types = append(r.types, t)
		r.strs = append(r.strs, kv.Value.AsString())
		r.nums = append(r.nums, f)
	})
	r.blob = appendSpan(r.blob[:0], s)
}
