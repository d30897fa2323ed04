package local

import (
	"unsafe"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// The head's catalog (operations, attribute names and a bounded sample of
// attribute values) is updated for every span appended, under the head's
// write lock, so it must cost little: instrumentation sends the same
// attribute keys in the same order span after span, and a batch's spans
// share a few resources and scopes. So:
//
//   - span attribute keys are compared with the previous span's keys at
//     the same position (a string comparison) before the map is asked;
//   - a resource or scope is noted once per append, not once per span;
//   - operations are compared with the last few noted before the map;
//   - attribute values are noted for every span while the head is small
//     (headValueSampleFrom spans) and then for one span in
//     headValueSampleEvery: their counts only order autocomplete
//     suggestions, and a sample orders them the same way.
const (
	headValueSampleFrom  = 4096
	headValueSampleEvery = 16
	// headOpCache is how many recent operations are compared before the
	// operations map is asked.
	headOpCache = 16
	// headSeenCache is how many distinct resources and scopes an append
	// remembers having noted.
	headSeenCache = 16
)

// keyEntry is a cached attribute name of the span scope and its catalog
// entry (nil when the catalog is full of names).
type keyEntry struct {
	key string
	av  *attrValues
}

// catalogSeen remembers the resources and scopes one append has noted.
type catalogSeen struct {
	res    [headSeenCache]*model.Resource
	scopes [headSeenCache]*model.Scope
	nres   int
	nscope int
}

// noteSpan adds a span's operation and attributes to the catalog. h.mu
// must be held for writing.
func (h *Head) noteSpan(s *model.Span, svc string, seen *catalogSeen) {
	h.noteOperation(storage.Operation{Service: svc, Name: s.Name, Kind: s.Kind})
	values := h.noted < headValueSampleFrom || h.noted%headValueSampleEvery == 0
	h.noted++
	for i := range s.Attributes {
		kv := &s.Attributes[i]
		var av *attrValues
		if i < len(h.lastKeys) && h.lastKeys[i].key == kv.Key {
			av = h.lastKeys[i].av
		} else {
			av = h.attrEntry(storage.ScopeSpan, kv.Key)
			e := keyEntry{key: kv.Key, av: av}
			if i < len(h.lastKeys) {
				h.lastKeys[i] = e
			} else {
				h.lastKeys = append(h.lastKeys, e)
			}
		}
		if values && av != nil {
			h.noteValue(av, kv.Value)
		}
	}
	if r := s.Resource; r != nil && seen.addResource(r) {
		h.noteList(storage.ScopeResource, r.Attributes, true)
	}
	if sc := s.Scope; sc != nil && seen.addScope(sc) {
		h.noteList(storage.ScopeInstrumentation, sc.Attributes, true)
	}
	for i := range s.Events {
		h.noteList(storage.ScopeEvent, s.Events[i].Attributes, values)
	}
	for i := range s.Links {
		h.noteList(storage.ScopeLink, s.Links[i].Attributes, values)
	}
}

// addResource reports whether r is new to this append, remembering it.
// Past the cache's size every resource counts as new: noting it again only
// costs time.
func (c *catalogSeen) addResource(r *model.Resource) bool {
	for _, x := range c.res[:c.nres] {
		if x == r {
			return false
		}
	}
	if c.nres < len(c.res) {
		c.res[c.nres] = r
		c.nres++
	}
	return true
}

// addScope is addResource for scopes.
func (c *catalogSeen) addScope(s *model.Scope) bool {
	for _, x := range c.scopes[:c.nscope] {
		if x == s {
			return false
		}
	}
	if c.nscope < len(c.scopes) {
		c.scopes[c.nscope] = s
		c.nscope++
	}
	return true
}

// noteOperation adds an operation to the set.
func (h *Head) noteOperation(op storage.Operation) {
	// NB: the strings of a batch's spans are mostly shared (see
	// otlp.FromTraces), so comparing their data pointers finds most
	// repeats without reading the strings; a miss costs a map write.
	for i := range h.lastOps[:h.nOps] {
		x := &h.lastOps[i]
		if x.Kind == op.Kind && sameString(x.Name, op.Name) && sameString(x.Service, op.Service) {
			return
		}
	}
	h.operations[op] = struct{}{}
	h.lastOps[h.lastOp] = op
	h.lastOp = (h.lastOp + 1) % headOpCache
	h.nOps = min(h.nOps+1, headOpCache)
}

// sameString reports whether a and b are the same string in memory (not
// just equal).
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// noteList adds the names of an attribute list, and its values when
// values is set.
func (h *Head) noteList(scope storage.AttrScope, kvs []model.KeyValue, values bool) {
	for i := range kvs {
		av := h.attrEntry(scope, kvs[i].Key)
		if values && av != nil {
			h.noteValue(av, kvs[i].Value)
		}
	}
}

// attrEntry returns the catalog entry of an attribute name, creating it;
// nil when the catalog holds headMaxAttributeNames names already.
func (h *Head) attrEntry(scope storage.AttrScope, key string) *attrValues {
	name := storage.AttributeName{Scope: scope, Name: key}
	av := h.attrs[name]
	if av == nil {
		if len(h.attrs) >= headMaxAttributeNames {
			return nil
		}
		av = &attrValues{values: make(map[valueKey]*valueCount)}
		h.attrs[name] = av
	}
	return av
}

// noteValue counts one value of an attribute in the bounded catalog.
func (h *Head) noteValue(av *attrValues, v model.Value) {
	k, ok := catalogKey(v)
	if !ok {
		return
	}
	if vc := av.values[k]; vc != nil {
		vc.count++
		return
	}
	if av.full || h.attrValues >= headMaxAttributeValues {
		return
	}
	if len(av.values) >= headMaxValuesPerAttribute {
		av.full = true
		return
	}
	av.values[k] = &valueCount{v: v, count: 1}
	h.attrValues++
}
