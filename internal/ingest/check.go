package ingest

import (
	"strings"
	"unicode/utf8"

	"github.com/clew-tracing/clew/internal/model"
)

// Check reports why s must not be stored, or nil: model.Validate, then
// the retention window. A span that passes has its over-long attribute
// values truncated in place (see Options.MaxAttributeValueBytes).
//
// Check has the shape of the keep function of otlp.FromTraces, so that
// receivers refuse invalid spans one by one and keep the rest. It modifies
// s and its Resource and Scope, which must therefore not yet be shared
// with storage; calls for spans of one request must not run concurrently.
func (in *Ingester) Check(s *model.Span) error {
	if err := model.Validate(s); err != nil {
		return err
	}
	if r := in.opts.Retention; r > 0 {
		cutoff := in.opts.Now().Add(-r).UnixNano()
		if cutoff > 0 && s.EndUnixNano < uint64(cutoff) {
			return in.errTooOld
		}
	}
	in.truncateSpan(s)
	return nil
}

func (in *Ingester) truncateSpan(s *model.Span) {
	n := in.truncateKVs(s.Attributes)
	for i := range s.Events {
		n += in.truncateKVs(s.Events[i].Attributes)
	}
	for i := range s.Links {
		n += in.truncateKVs(s.Links[i].Attributes)
	}
	// NB: a shared Resource or Scope is seen once per span, but only the
	// first visit finds anything to cut, so each value is counted once.
	if s.Resource != nil {
		n += in.truncateKVs(s.Resource.Attributes)
	}
	if s.Scope != nil {
		n += in.truncateKVs(s.Scope.Attributes)
	}
	if n > 0 {
		in.m.truncated.Add(float64(n))
	}
}

func (in *Ingester) truncateKVs(kvs []model.KeyValue) int {
	n := 0
	for i := range kvs {
		n += in.truncateValue(&kvs[i].Value)
	}
	return n
}

func (in *Ingester) truncateValue(v *model.Value) int {
	max := in.opts.MaxAttributeValueBytes
	switch v.Type {
	case model.TypeString:
		if len(v.Str) > max {
			cut := max
			for cut > 0 && !utf8.RuneStart(v.Str[cut]) {
				cut--
			}
			// Clone so that the long original can be freed.
			v.Str = strings.Clone(v.Str[:cut])
			return 1
		}
	case model.TypeBytes:
		if len(v.Str) > max {
			v.Str = strings.Clone(v.Str[:max])
			return 1
		}
	case model.TypeArray:
		n := 0
		for i := range v.Array {
			n += in.truncateValue(&v.Array[i])
		}
		return n
	case model.TypeMap:
		return in.truncateKVs(v.Map)
	}
	return 0
}
