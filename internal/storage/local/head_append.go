package local

import (
	"time"
	"unsafe"

	"github.com/clew-tracing/clew/internal/model"
)

// Approximate memory costs used by the head's accounting. They need not be
// exact: HeadMaxBytes is a safety bound, not a quota.
const (
	spanStructBytes     = int64(unsafe.Sizeof(model.Span{}))
	keyValueStructBytes = int64(unsafe.Sizeof(model.KeyValue{}))
	eventStructBytes    = int64(unsafe.Sizeof(model.Event{}))
	linkStructBytes     = int64(unsafe.Sizeof(model.Link{}))
	resourceStructBytes = int64(unsafe.Sizeof(model.Resource{}))
	scopeStructBytes    = int64(unsafe.Sizeof(model.Scope{}))
	// spanIndexBytes is a span's share of the indexes: its pointer in
	// spans and in its trace, and its share of the trace's entries in
	// the map, traceList and byService.
	spanIndexBytes = 2*8 + 48
)

// append adds a batch of spans to the head. The spans must not be modified
// afterwards. now is the DB's clock, for the head's age.
func (h *Head) append(spans []*model.Span, now time.Time) {
	if len(spans) == 0 {
		return
	}
	size := batchBytes(spans)

	h.mu.Lock()
	defer h.mu.Unlock()
	var seen catalogSeen
	if len(h.spans) == 0 {
		h.firstAppend = now
		h.minTime, h.maxTime = spans[0].StartUnixNano, spanEnd(spans[0])
	}
	for i, s := range spans {
		end := spanEnd(s)
		h.minTime = min(h.minTime, s.StartUnixNano)
		h.maxTime = max(h.maxTime, end)
		t := h.traces[s.TraceID]
		if t == nil {
			// NB: the spans of a trace often arrive together; size its
			// list for the run of them in this batch.
			run := 1
			for run < len(spans)-i && spans[i+run].TraceID == s.TraceID {
				run++
			}
			t = &headTrace{id: s.TraceID, minStart: s.StartUnixNano, maxEnd: end, spans: make([]*model.Span, 0, run)}
			h.traces[s.TraceID] = t
			h.traceList = append(h.traceList, t)
		} else if t.has(s) {
			// NB: a retried export must not duplicate spans. The
			// first copy wins: replacing it would mutate a slice that
			// readers scan without the lock.
			size -= spanBytes(s)
			continue
		}
		svc := s.Service()
		if !t.hasService(svc) {
			h.byService[svc] = append(h.byService[svc], t)
		}
		t.add(s)
		h.spans = append(h.spans, s)
		h.noteSpan(s, svc, &seen)
		size += int64(h.stats.add(s, svc))
	}
	h.count.Store(int64(len(h.spans)))
	h.bytes.Add(size)
}

// headTraceIndexAt is the number of spans from which a trace keeps a set of
// its span IDs; smaller traces are searched linearly for duplicates.
const headTraceIndexAt = 16

// has reports whether the trace already holds a delivery of s (same span
// ID, kind and service; see [spanIdentity]).
func (t *headTrace) has(s *model.Span) bool {
	if t.ids != nil {
		_, ok := t.ids[identityOf(s)]
		return ok
	}
	for _, x := range t.spans {
		if sameSpan(x, s) {
			return true
		}
	}
	return false
}

// add appends a span to the trace and updates its bounds.
func (t *headTrace) add(s *model.Span) {
	t.spans = append(t.spans, s)
	t.minStart = min(t.minStart, s.StartUnixNano)
	t.maxEnd = max(t.maxEnd, spanEnd(s))
	switch {
	case t.ids != nil:
		t.ids[identityOf(s)] = struct{}{}
		t.services[s.Service()] = struct{}{}
	case len(t.spans) > headTraceIndexAt:
		t.ids = make(map[spanIdentity]struct{}, 2*len(t.spans))
		t.services = make(map[string]struct{})
		for _, x := range t.spans {
			t.ids[identityOf(x)] = struct{}{}
			t.services[x.Service()] = struct{}{}
		}
	}
}

// hasService reports whether the trace holds a span of the service.
func (t *headTrace) hasService(svc string) bool {
	if t.services != nil {
		_, ok := t.services[svc]
		return ok
	}
	for _, x := range t.spans {
		// NB: the spans of a batch share their service strings (see
		// otlp.FromTraces), so most comparisons stop at the pointer.
		if x.Service() == svc {
			return true
		}
	}
	return false
}

// catalogKey returns the key under which a value is remembered, and false
// for values that are not worth offering in a picker (composite, empty or
// long ones).
func catalogKey(v model.Value) (valueKey, bool) {
	switch v.Type {
	case model.TypeString:
		if len(v.Str) > headMaxValueLen {
			return valueKey{}, false
		}
		return makeValueKey(v), true
	case model.TypeBool, model.TypeInt, model.TypeDouble:
		return makeValueKey(v), true
	}
	return valueKey{}, false
}

// spanEnd returns the end used for time bounds: a span that ends before it
// starts counts with its start, as in a block's meta.
func spanEnd(s *model.Span) uint64 { return max(s.StartUnixNano, s.EndUnixNano) }

// batchBytes estimates the memory a batch occupies once in the head.
// Resources and scopes shared within the batch are counted once.
func batchBytes(spans []*model.Span) int64 {
	var n int64
	var lastRes *model.Resource
	var lastScope *model.Scope
	for _, s := range spans {
		n += spanBytes(s)
		// NB: spans of one resource arrive together, so comparing with
		// the previous span's pointer dedupes nearly all of them without
		// a map.
		if s.Resource != nil && s.Resource != lastRes {
			lastRes = s.Resource
			n += resourceStructBytes + int64(len(s.Resource.ServiceName)+len(s.Resource.SchemaURL)) + keyValuesBytes(s.Resource.Attributes)
		}
		if s.Scope != nil && s.Scope != lastScope {
			lastScope = s.Scope
			n += scopeStructBytes + int64(len(s.Scope.Name)+len(s.Scope.Version)+len(s.Scope.SchemaURL)) + keyValuesBytes(s.Scope.Attributes)
		}
	}
	return n
}

// spanBytes estimates one span's memory, without its resource and scope.
func spanBytes(s *model.Span) int64 {
	n := spanStructBytes + spanIndexBytes
	n += int64(len(s.TraceState) + len(s.Name) + len(s.StatusMessage))
	n += keyValuesBytes(s.Attributes)
	for i := range s.Events {
		ev := &s.Events[i]
		n += eventStructBytes + int64(len(ev.Name)) + keyValuesBytes(ev.Attributes)
	}
	for i := range s.Links {
		l := &s.Links[i]
		n += linkStructBytes + int64(len(l.TraceState)) + keyValuesBytes(l.Attributes)
	}
	return n
}

// keyValuesBytes estimates the memory of an attribute list.
func keyValuesBytes(kvs []model.KeyValue) int64 {
	var n int64
	for i := range kvs {
		n += keyValueStructBytes + int64(len(kvs[i].Key)) + valueBytes(&kvs[i].Value)
	}
	return n
}

// valueBytes estimates the memory a value refers to beyond its struct.
func valueBytes(v *model.Value) int64 {
	n := int64(len(v.Str))
	for i := range v.Array {
		n += int64(unsafe.Sizeof(model.Value{})) + valueBytes(&v.Array[i])
	}
	n += keyValuesBytes(v.Map)
	return n
}

// spanStorable reports whether every attribute value of s (span, resource,
// scope, event and link attributes) has a known type and nests arrays and
// maps less than maxValueDepth deep. Other values would make the WAL record
// undecodable or the block writer refuse the span at every cut, so Write
// rejects them up front. last holds the resource and scope of the
// previous span checked: spans of a batch share them, and they are checked
// once.
func spanStorable(s *model.Span, last *storableLast) bool {
	if !kvsStorable(s.Attributes) {
		return false
	}
	for i := range s.Events {
		if !kvsStorable(s.Events[i].Attributes) {
			return false
		}
	}
	for i := range s.Links {
		if !kvsStorable(s.Links[i].Attributes) {
			return false
		}
	}
	if r := s.Resource; r != nil && r != last.res {
		if !kvsStorable(r.Attributes) {
			return false
		}
		last.res = r
	}
	if sc := s.Scope; sc != nil && sc != last.scope {
		if !kvsStorable(sc.Attributes) {
			return false
		}
		last.scope = sc
	}
	return true
}

// storableLast is the resource and scope spanStorable checked last.
type storableLast struct {
	res   *model.Resource
	scope *model.Scope
}

// kvsStorable is spanStorable for one attribute list.
func kvsStorable(kvs []model.KeyValue) bool {
	for i := range kvs {
		if !valueStorable(&kvs[i].Value, maxValueDepth-1) {
			return false
		}
	}
	return true
}

// valueStorable reports whether v has a known type and nests at most budget
// levels deeper.
func valueStorable(v *model.Value, budget int) bool {
	if budget < 0 || v.Type > model.TypeMap {
		return false
	}
	switch v.Type {
	case model.TypeArray:
		for i := range v.Array {
			if !valueStorable(&v.Array[i], budget-1) {
				return false
			}
		}
	case model.TypeMap:
		for i := range v.Map {
			if !valueStorable(&v.Map[i].Value, budget-1) {
				return false
			}
		}
	}
	return true
}
