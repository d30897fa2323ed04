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

// Services returns every service name in the heads and blocks, sorted.
func (db *DB) Services(ctx context.Context) ([]string, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	set := make(map[string]struct{})
	for _, c := range db.catalogs(s, allParts(s), true) {
		for _, svc := range c.Services {
			set[svc] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for svc := range set {
		out = append(out, svc)
	}
	slices.Sort(out)
	return out, nil
}

// Operations returns the span names of q.Service (every service when
// empty), of q.Kind when q.HasKind, sorted by name, kind, then service.
func (db *DB) Operations(ctx context.Context, q storage.OperationQuery) ([]storage.Operation, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	set := make(map[storage.Operation]struct{})
	for _, c := range db.catalogs(s, allParts(s), true) {
		for _, op := range c.Operations {
			if (q.Service != "" && op.Service != q.Service) || (q.HasKind && op.Kind != q.Kind) {
				continue
			}
			set[op] = struct{}{}
		}
	}
	out := make([]storage.Operation, 0, len(set))
	for op := range set {
		out = append(out, op)
	}
	slices.SortFunc(out, compareOperations)
	return out, nil
}

// AttributeNames returns the attribute names of q.Scope (every scope for
// ScopeAny) on spans starting in q.Range, sorted by name then scope, at
// most q.Limit (all when 0). Parts wholly inside the range answer from
// their catalogs; a part the range cuts through is scanned, span by span,
// since a catalog cannot tell which of its names occur in the range.
func (db *DB) AttributeNames(ctx context.Context, q storage.AttributeQuery) ([]storage.AttributeName, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	set := make(map[storage.AttributeName]struct{})
	whole, cut := splitByRange(s, q.Range)
	for _, c := range db.catalogs(s, whole, q.Range.IsZero()) {
		for _, a := range c.Attributes {
			if q.Scope == storage.ScopeAny || q.Scope == a.Scope {
				set[a] = struct{}{}
			}
		}
	}
	for _, p := range cut {
		err := scanPart(ctx, p, q.Range, func(sp *model.Span) {
			storage.EachAttribute(sp, func(scope storage.AttrScope, kv *model.KeyValue) {
				if q.Scope == storage.ScopeAny || q.Scope == scope {
					set[storage.AttributeName{Scope: scope, Name: kv.Key}] = struct{}{}
				}
			})
		})
		if err := db.partErr(*p, err); err != nil {
			return nil, err
		}
	}
	out := make([]storage.AttributeName, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.SortFunc(out, compareAttributeNames)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// AttributeValues returns distinct values of q.Name in q.Scope on spans
// starting in q.Range, at most q.Limit (all when 0). Values come from the
// newest part first; within the head, and within a part the range cuts
// through (which is scanned), the most frequent come first.
func (db *DB) AttributeValues(ctx context.Context, q storage.AttributeQuery) ([]model.Value, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	whole, cut := splitByRange(s, q.Range)
	cutSet := make(map[*part]bool, len(cut))
	for i := range cut {
		cutSet[cut[i]] = true
	}
	seen := make(map[valueKey]struct{})
	var out []model.Value
	for i := range s.parts {
		p := &s.parts[i]
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		if !slices.Contains(whole, p) && !cutSet[p] {
			continue
		}
		var vals []model.Value
		var err error
		if cutSet[p] {
			vals, err = scanValues(ctx, p, q)
		} else {
			vals, err = p.r.AttributeValues(ctx, q.Scope, q.Name, q.Limit)
		}
		if err := db.partErr(*p, err); err != nil {
			return nil, err
		}
		for _, v := range vals {
			k := makeValueKey(v)
			if _, ok := seen[k]; ok {
				continue
			}
			seen[k] = struct{}{}
			out = append(out, v)
			if q.Limit > 0 && len(out) >= q.Limit {
				break
			}
		}
	}
	return out, nil
}

// splitByRange sorts a snapshot's parts that overlap r into those wholly
// inside it (every span starts in r, as every start lies in [minTime,
// maxTime]) and those r cuts through.
func splitByRange(s *snapshot, r storage.TimeRange) (whole, cut []*part) {
	for i := range s.parts {
		p := &s.parts[i]
		switch {
		case !r.Overlaps(p.minTime, p.maxTime):
		case r.Contains(p.minTime) && r.Contains(p.maxTime):
			whole = append(whole, p)
		default:
			cut = append(cut, p)
		}
	}
	return whole, cut
}

// scanValues counts the values of q.Name in q.Scope on the part's spans
// that start in q.Range, most frequent first.
func scanValues(ctx context.Context, p *part, q storage.AttributeQuery) ([]model.Value, error) {
	type counted struct {
		v model.Value
		n int
	}
	counts := make(map[valueKey]*counted)
	err := scanPart(ctx, p, q.Range, func(sp *model.Span) {
		storage.EachAttribute(sp, func(scope storage.AttrScope, kv *model.KeyValue) {
			if kv.Key != q.Name || (q.Scope != storage.ScopeAny && q.Scope != scope) {
				return
			}
			k := makeValueKey(kv.Value)
			if c := counts[k]; c != nil {
				c.n++
			} else {
				counts[k] = &counted{v: kv.Value, n: 1}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	all := make([]*counted, 0, len(counts))
	for _, c := range counts {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *counted) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.v.AsString(), b.v.AsString()), cmp.Compare(a.v.Type, b.v.Type))
	})
	out := make([]model.Value, len(all))
	for i, c := range all {
		out[i] = c.v
	}
	return out, nil
}

// scanPart calls fn for every span of the part that starts in r.
func scanPart(ctx context.Context, p *part, r storage.TimeRange, fn func(*model.Span)) error {
	var seq iter.Seq2[*model.Span, error]
	if p.blk != nil {
		seq = p.blk.b.Spans(ctx)
	} else {
		seq = p.r.(*Head).allSpans(ctx)
	}
	for sp, err := range seq {
		if err != nil {
			return err
		}
		if r.Contains(sp.StartUnixNano) {
			fn(sp)
		}
	}
	return nil
}

// catalogs returns the catalogs of the given parts: each head's, and for
// the blocks either the cached merge of every block (all true: the parts
// are the whole snapshot) or each block's own.
func (db *DB) catalogs(s *snapshot, parts []*part, all bool) []*block.Catalog {
	var out []*block.Catalog
	var blocks []*part
	for _, p := range parts {
		if p.blk == nil {
			out = append(out, p.r.Catalog())
		} else {
			blocks = append(blocks, p)
		}
	}
	if !all {
		for _, p := range blocks {
			out = append(out, p.r.Catalog())
		}
		return out
	}
	return append(out, db.mergedBlockCatalog(s, blocks))
}

// mergedBlockCatalog returns the union of the blocks' catalogs, from the
// cache when the block list has not changed since s was taken.
func (db *DB) mergedBlockCatalog(s *snapshot, blocks []*part) *block.Catalog {
	db.mu.RLock()
	c, gen := db.blockCatalog, db.blocksGen
	db.mu.RUnlock()
	if c != nil && gen == s.gen {
		return c
	}
	c = mergeCatalogs(blocks)
	db.mu.Lock()
	if db.blocksGen == s.gen {
		db.blockCatalog = c
	}
	db.mu.Unlock()
	return c
}

// mergeCatalogs returns the sorted union of the parts' catalogs.
func mergeCatalogs(parts []*part) *block.Catalog {
	svcs := make(map[string]struct{})
	ops := make(map[storage.Operation]struct{})
	attrs := make(map[storage.AttributeName]struct{})
	for _, p := range parts {
		c := p.r.Catalog()
		for _, v := range c.Services {
			svcs[v] = struct{}{}
		}
		for _, v := range c.Operations {
			ops[v] = struct{}{}
		}
		for _, v := range c.Attributes {
			attrs[v] = struct{}{}
		}
	}
	out := &block.Catalog{
		Services:   make([]string, 0, len(svcs)),
		Operations: make([]storage.Operation, 0, len(ops)),
		Attributes: make([]storage.AttributeName, 0, len(attrs)),
	}
	for v := range svcs {
		out.Services = append(out.Services, v)
	}
	for v := range ops {
		out.Operations = append(out.Operations, v)
	}
	for v := range attrs {
		out.Attributes = append(out.Attributes, v)
	}
	slices.Sort(out.Services)
	slices.SortFunc(out.Operations, compareOperations)
	slices.SortFunc(out.Attributes, compareAttributeNames)
	return out
}

// allParts returns pointers to every part of a snapshot.
func allParts(s *snapshot) []*part {
	out := make([]*part, len(s.parts))
	for i := range s.parts {
		out[i] = &s.parts[i]
	}
	return out
}
