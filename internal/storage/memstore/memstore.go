// Package memstore is a complete storage backend that keeps everything in
// memory. It is the reference implementation of the storage contract: the
// simplest code that passes the conformance suite, used as a fake by the
// tests of the layers above storage. It is not durable and has no size
// bound, so it is never used by `clew serve`.
package memstore

import (
	"bytes"
	"context"
	"sort"
	"sync"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Store is an in-memory storage.Backend. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	traces map[model.TraceID]map[spanKey]*model.Span
	closed bool
}

// spanKey identifies a stored span. Zipkin's shared spans (the client and
// server halves of one RPC) carry the same span ID, so the ID alone would
// keep only one half; kind and service tell the halves apart while a
// retried export of the same span still replaces it.
type spanKey struct {
	id      model.SpanID
	kind    model.SpanKind
	service string
}

var _ storage.Backend = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{traces: map[model.TraceID]map[spanKey]*model.Span{}}
}

// Write keeps the spans. A span with the same trace ID, span ID, kind and
// service as a stored one replaces it, as a retried export must not
// duplicate spans.
func (s *Store) Write(ctx context.Context, spans []*model.Span) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	for _, sp := range spans {
		t := s.traces[sp.TraceID]
		if t == nil {
			t = map[spanKey]*model.Span{}
			s.traces[sp.TraceID] = t
		}
		t[spanKey{sp.SpanID, sp.Kind, sp.Service()}] = sp
	}
	return nil
}

// Trace returns a copy of the trace's span list.
func (s *Store) Trace(ctx context.Context, id model.TraceID, _ storage.TimeRange) (*model.Trace, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	t := s.traces[id]
	if len(t) == 0 {
		return nil, storage.ErrNotFound
	}
	spans := sortedSpans(t)
	for i, sp := range spans {
		spans[i] = sp.Clone()
	}
	return &model.Trace{ID: id, Spans: spans}, nil
}

func sortedSpans(t map[spanKey]*model.Span) []*model.Span {
	out := make([]*model.Span, 0, len(t))
	for _, sp := range t {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].StartUnixNano != out[j].StartUnixNano {
			return out[i].StartUnixNano < out[j].StartUnixNano
		}
		return bytes.Compare(out[i].SpanID[:], out[j].SpanID[:]) < 0
	})
	return out
}

// FindTraces scans every span.
func (s *Store) FindTraces(ctx context.Context, q *storage.Query) ([]storage.TraceSummary, error) {
	m, err := storage.NewMatcher(q)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	var out []storage.TraceSummary
	for id, t := range s.traces {
		for _, sp := range t {
			if m.Match(sp) {
				out = append(out, storage.Summarize(&model.Trace{ID: id, Spans: sortedSpans(t)}))
				break
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].StartUnixNano != out[j].StartUnixNano {
			return out[i].StartUnixNano > out[j].StartUnixNano
		}
		return bytes.Compare(out[i].TraceID[:], out[j].TraceID[:]) < 0
	})
	if limit := q.EffectiveLimit(); len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// each calls fn for every span under the read lock.
func (s *Store) each(fn func(*model.Span)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	for _, t := range s.traces {
		for _, sp := range t {
			fn(sp)
		}
	}
	return nil
}

// Services lists every service name, sorted.
func (s *Store) Services(ctx context.Context) ([]string, error) {
	set := map[string]struct{}{}
	if err := s.each(func(sp *model.Span) { set[sp.Service()] = struct{}{} }); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Operations lists span names with kinds.
func (s *Store) Operations(ctx context.Context, q storage.OperationQuery) ([]storage.Operation, error) {
	set := map[storage.Operation]struct{}{}
	err := s.each(func(sp *model.Span) {
		if (q.Service != "" && sp.Service() != q.Service) || (q.HasKind && sp.Kind != q.Kind) {
			return
		}
		set[storage.Operation{Service: sp.Service(), Name: sp.Name, Kind: sp.Kind}] = struct{}{}
	})
	if err != nil {
		return nil, err
	}
	out := make([]storage.Operation, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Service < b.Service
	})
	return out, nil
}

// AttributeNames lists attribute keys per scope.
func (s *Store) AttributeNames(ctx context.Context, q storage.AttributeQuery) ([]storage.AttributeName, error) {
	set := map[storage.AttributeName]struct{}{}
	err := s.each(func(sp *model.Span) {
		if !q.Range.Contains(sp.StartUnixNano) {
			return
		}
		storage.EachAttribute(sp, func(scope storage.AttrScope, kv *model.KeyValue) {
			if q.Scope == storage.ScopeAny || q.Scope == scope {
				set[storage.AttributeName{Scope: scope, Name: kv.Key}] = struct{}{}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]storage.AttributeName, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Scope < out[j].Scope
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// AttributeValues lists distinct values of one attribute, most frequent first.
func (s *Store) AttributeValues(ctx context.Context, q storage.AttributeQuery) ([]model.Value, error) {
	type entry struct {
		v model.Value
		n int
	}
	seen := map[string]*entry{}
	err := s.each(func(sp *model.Span) {
		if !q.Range.Contains(sp.StartUnixNano) {
			return
		}
		storage.EachAttribute(sp, func(scope storage.AttrScope, kv *model.KeyValue) {
			if kv.Key != q.Name || (q.Scope != storage.ScopeAny && q.Scope != scope) {
				return
			}
			key := string(rune('0'+kv.Value.Type)) + kv.Value.AsString()
			e := seen[key]
			if e == nil {
				e = &entry{v: kv.Value}
				seen[key] = e
			}
			e.n++
		})
	})
	if err != nil {
		return nil, err
	}
	es := make([]*entry, 0, len(seen))
	for _, e := range seen {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].n != es[j].n {
			return es[i].n > es[j].n
		}
		return es[i].v.AsString() < es[j].v.AsString()
	})
	if q.Limit > 0 && len(es) > q.Limit {
		es = es[:q.Limit]
	}
	out := make([]model.Value, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out, nil
}

// Dependencies derives service edges from parent/child spans.
func (s *Store) Dependencies(ctx context.Context, r storage.TimeRange) ([]storage.Dependency, error) {
	acc := map[storage.DependencyKey]*storage.Dependency{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	for _, t := range s.traces {
		storage.AddDependencies(acc, sortedSpans(t), r)
	}
	return storage.SortedDependencies(acc), nil
}

// Flush does nothing: memory is the store's only form.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}

// Close makes every later call fail with storage.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.traces = nil
	return nil
}

var _ storage.StatsReader = (*Store)(nil)

// OperationStats computes the statistics by scanning every span.
func (s *Store) OperationStats(ctx context.Context, q storage.StatsQuery) ([]storage.OperationStats, error) {
	b := storage.NewStatsBuilder(q)
	if err := s.each(b.AddSpan); err != nil {
		return nil, err
	}
	return b.Result(), nil
}

// EdgeStats computes the service edges' statistics by scanning every trace.
func (s *Store) EdgeStats(ctx context.Context, q storage.StatsQuery) ([]storage.EdgeStats, error) {
	b := storage.NewEdgeStatsBuilder(q)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	for _, t := range s.traces {
		b.AddTrace(sortedSpans(t))
	}
	return b.Result(), nil
}
