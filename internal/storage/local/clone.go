package local

import "github.com/clew-tracing/clew/internal/model"

// spanCloner deep-copies head spans for a caller that owns its results
// (the storage contract) while the head keeps sharing the originals. A
// resource or scope shared by several spans is copied once, so the copies
// share it the same way.
type spanCloner struct {
	res    map[*model.Resource]*model.Resource
	scopes map[*model.Scope]*model.Scope
}

// clone returns a deep copy of s.
func (c *spanCloner) clone(s *model.Span) *model.Span {
	out := *s
	out.Attributes = cloneKVs(s.Attributes)
	if s.Events != nil {
		out.Events = make([]model.Event, len(s.Events))
		for i, ev := range s.Events {
			ev.Attributes = cloneKVs(ev.Attributes)
			out.Events[i] = ev
		}
	}
	if s.Links != nil {
		out.Links = make([]model.Link, len(s.Links))
		for i, l := range s.Links {
			l.Attributes = cloneKVs(l.Attributes)
			out.Links[i] = l
		}
	}
	if s.Resource != nil {
		if c.res == nil {
			c.res = make(map[*model.Resource]*model.Resource)
		}
		r := c.res[s.Resource]
		if r == nil {
			r = &model.Resource{ServiceName: s.Resource.ServiceName, SchemaURL: s.Resource.SchemaURL, Attributes: cloneKVs(s.Resource.Attributes)}
			c.res[s.Resource] = r
		}
		out.Resource = r
	}
	if s.Scope != nil {
		if c.scopes == nil {
			c.scopes = make(map[*model.Scope]*model.Scope)
		}
		sc := c.scopes[s.Scope]
		if sc == nil {
			sc = &model.Scope{Name: s.Scope.Name, Version: s.Scope.Version, SchemaURL: s.Scope.SchemaURL, Attributes: cloneKVs(s.Scope.Attributes)}
			c.scopes[s.Scope] = sc
		}
		out.Scope = sc
	}
	return &out
}

// cloneKVs deep-copies an attribute list (strings are immutable and shared).
func cloneKVs(kvs []model.KeyValue) []model.KeyValue {
	if kvs == nil {
		return nil
	}
	out := make([]model.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = model.KeyValue{Key: kv.Key, Value: cloneValue(kv.Value)}
	}
	return out
}

// cloneValue deep-copies a value's arrays and maps.
func cloneValue(v model.Value) model.Value {
	if v.Array != nil {
		a := make([]model.Value, len(v.Array))
		for i, e := range v.Array {
			a[i] = cloneValue(e)
		}
		v.Array = a
	}
	v.Map = cloneKVs(v.Map)
	return v
}
