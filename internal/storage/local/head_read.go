package local

import (
	"cmp"
	"context"
	"iter"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// ctxCheckEvery is how many spans a scan handles between checks of its
// context.
const ctxCheckEvery = 4096

// Trace returns the head's spans of the trace, or nil when it has none.
// The slice is the caller's; the spans are shared and read-only.
func (h *Head) Trace(_ context.Context, id model.TraceID) ([]*model.Span, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t := h.traces[id]
	if t == nil {
		return nil, nil
	}
	return slices.Clone(t.spans), nil
}

// Search returns up to limit traces with a span matching m, newest first by
// the trace's earliest start in the head. A service equality in the query
// restricts the scan to that service's spans.
func (h *Head) Search(ctx context.Context, m *storage.Matcher, limit int) ([]block.Hit, error) {
	return h.SearchAfter(ctx, m, limit, nil)
}

// SearchAfter is Search restricted to the hits that rank before floor (see
// [block.Hit.Before]); a nil floor restricts nothing. It visits the
// candidate traces (those with a span of the service the query requires,
// or all) newest arrival first, keeps the best limit hits, and skips a
// trace whose earliest start cannot beat the limit-th without looking at
// its spans.
func (h *Head) SearchAfter(ctx context.Context, m *storage.Matcher, limit int, floor *block.Hit) ([]block.Hit, error) {
	if limit <= 0 {
		limit = storage.DefaultLimit
	}
	q := m.Query()
	h.mu.RLock()
	if len(h.spans) == 0 || !q.Range.Overlaps(h.minTime, h.maxTime) {
		h.mu.RUnlock()
		return nil, nil
	}
	cand := h.traceList
	if svc, ok := serviceEquality(q); ok {
		cand = h.byService[svc]
	}
	h.mu.RUnlock()

	// NB: cand is a snapshot of an append-only slice, but a trace's fields
	// change as spans arrive: copy them under the read lock, a chunk at a
	// time, so that appends are never held up for long.
	type view struct {
		hit   block.Hit
		spans []*model.Span
	}
	var chunk [headSearchChunk]view
	top := block.NewTopHits(limit, floor)
	for end := len(cand); end > 0; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := max(0, end-headSearchChunk)
		h.mu.RLock()
		for i, t := range cand[start:end] {
			chunk[i] = view{block.Hit{TraceID: t.id, StartUnixNano: t.minStart}, t.spans}
		}
		h.mu.RUnlock()
		for i := end - start - 1; i >= 0; i-- {
			v := &chunk[i]
			if !top.Beats(v.hit) {
				continue
			}
			for _, s := range v.spans {
				if m.Match(s) {
					top.Add(v.hit)
					break
				}
			}
		}
		end = start
	}
	clear(chunk[:])
	return top.Result(), nil
}

// headSearchChunk is how many traces a head search copies per hold of the
// read lock.
const headSearchChunk = 256

// sortHits orders hits newest first, ties by trace ID for determinism.
func sortHits(hits []block.Hit) {
	slices.SortFunc(hits, func(a, b block.Hit) int {
		if c := cmp.Compare(b.StartUnixNano, a.StartUnixNano); c != 0 {
			return c
		}
		return slices.Compare(a.TraceID[:], b.TraceID[:])
	})
}

// serviceEquality returns the service a query requires by equality, if any.
func serviceEquality(q *storage.Query) (string, bool) {
	for _, c := range q.Conditions {
		if c.Field == storage.FieldService && c.Op == storage.OpEqual && c.Value.Type == model.TypeString {
			return c.Value.Str, true
		}
	}
	return "", false
}

// Catalog returns the head's services, operations and attribute names,
// each sorted.
func (h *Head) Catalog() *block.Catalog {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c := &block.Catalog{
		Services:   make([]string, 0, len(h.byService)),
		Operations: make([]storage.Operation, 0, len(h.operations)),
		Attributes: make([]storage.AttributeName, 0, len(h.attrs)),
	}
	for svc := range h.byService {
		c.Services = append(c.Services, svc)
	}
	for op := range h.operations {
		c.Operations = append(c.Operations, op)
	}
	for name := range h.attrs {
		c.Attributes = append(c.Attributes, name)
	}
	slices.Sort(c.Services)
	slices.SortFunc(c.Operations, compareOperations)
	slices.SortFunc(c.Attributes, compareAttributeNames)
	return c
}

// compareOperations orders operations by name, kind, then service.
func compareOperations(a, b storage.Operation) int {
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.Service, b.Service)
}

// compareAttributeNames orders attribute names by name, then scope.
func compareAttributeNames(a, b storage.AttributeName) int {
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.Scope, b.Scope)
}

// AttributeValues returns up to limit remembered values of the attribute
// in scope (every scope for ScopeAny), most frequent first.
func (h *Head) AttributeValues(_ context.Context, scope storage.AttrScope, name string, limit int) ([]model.Value, error) {
	type counted struct {
		key   valueKey
		v     model.Value
		count int
	}
	byKey := make(map[valueKey]*counted)
	h.mu.RLock()
	for s := storage.ScopeSpan; s <= storage.ScopeLink; s++ {
		if scope != storage.ScopeAny && scope != s {
			continue
		}
		av := h.attrs[storage.AttributeName{Scope: s, Name: name}]
		if av == nil {
			continue
		}
		for k, vc := range av.values {
			if c := byKey[k]; c != nil {
				c.count += vc.count
			} else {
				byKey[k] = &counted{key: k, v: vc.v, count: vc.count}
			}
		}
	}
	h.mu.RUnlock()
	all := make([]*counted, 0, len(byKey))
	for _, c := range byKey {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *counted) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.key.typ, b.key.typ); c != 0 {
			return c
		}
		return cmp.Compare(a.key.s, b.key.s)
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]model.Value, len(all))
	for i, c := range all {
		out[i] = c.v
	}
	return out, nil
}

// Dependencies adds the service edges of the head's traces whose child
// spans start in r to acc.
func (h *Head) Dependencies(ctx context.Context, r storage.TimeRange, acc map[storage.DependencyKey]*storage.Dependency) error {
	for i, spans := range h.tracesIn(r) {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		storage.AddDependencies(acc, spans, r)
	}
	return nil
}

// tracesIn returns the spans of the head's traces that overlap r. It
// snapshots them (their span slices are append-only) so that the caller
// works on them without holding up appends.
func (h *Head) tracesIn(r storage.TimeRange) [][]*model.Span {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.spans) == 0 || !r.Overlaps(h.minTime, h.maxTime) {
		return nil
	}
	traces := make([][]*model.Span, 0, len(h.traces))
	for _, t := range h.traces {
		if r.Overlaps(t.minStart, t.maxEnd) {
			traces = append(traces, t.spans)
		}
	}
	return traces
}

// sortedTraceIDs returns the head's trace IDs in byte order, the order a
// block is written in.
func (h *Head) sortedTraceIDs() []model.TraceID {
	h.mu.RLock()
	ids := make([]model.TraceID, 0, len(h.traces))
	for id := range h.traces {
		ids = append(ids, id)
	}
	h.mu.RUnlock()
	slices.SortFunc(ids, func(a, b model.TraceID) int { return slices.Compare(a[:], b[:]) })
	return ids
}

// allSpans yields every span of the head in arrival order. It scans a
// snapshot of the span list, so it sees none of the spans appended after
// it starts and never blocks appends.
func (h *Head) allSpans(ctx context.Context) iter.Seq2[*model.Span, error] {
	return func(yield func(*model.Span, error) bool) {
		h.mu.RLock()
		spans := h.spans
		h.mu.RUnlock()
		for i, s := range spans {
			if i%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}
