package block

import (
	"cmp"
	"context"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Catalog lists what a block holds, for pickers and autocomplete. It is
// loaded at Open from the block's dictionaries and shared: callers must not
// modify it.
type Catalog struct {
	// Services is sorted.
	Services []string
	// Operations is sorted by service, then name, then kind.
	Operations []storage.Operation
	// Attributes holds the top-level attribute keys seen in each scope,
	// sorted by name, then scope.
	Attributes []storage.AttributeName
}

// Catalog returns the block's catalog (shared; read-only).
func (b *Block) Catalog() *Catalog { return &b.dict.catalog }

// AttributeValues returns up to limit distinct values (all when limit <= 0)
// of the top-level attribute name in scope (every scope for ScopeAny).
// Resource and instrumentation-scope values come from the dictionaries;
// span, event and link values from the row groups, newest first, reading
// only row groups whose key sets contain the name.
func (b *Block) AttributeValues(ctx context.Context, scope storage.AttrScope, name string, limit int) ([]model.Value, error) {
	key, ok := b.dict.symIDs[name]
	if !ok {
		return nil, nil
	}
	var out []model.Value
	seen := map[string]struct{}{}
	var kb []byte
	// add records v and reports whether the limit is reached.
	add := func(v model.Value) bool {
		kb = appendValue(kb[:0], &v)
		if _, dup := seen[string(kb)]; !dup {
			seen[string(kb)] = struct{}{}
			out = append(out, cloneValue(v))
		}
		return limit > 0 && len(out) >= limit
	}
	in := func(s storage.AttrScope) bool { return scope == storage.ScopeAny || scope == s }
	if in(storage.ScopeResource) {
		for _, r := range b.dict.resources {
			for _, kv := range r.Attributes {
				if kv.Key == name && add(kv.Value) {
					return out, nil
				}
			}
		}
	}
	if in(storage.ScopeInstrumentation) {
		for _, s := range b.dict.scopes {
			for _, kv := range s.Attributes {
				if kv.Key == name && add(kv.Value) {
					return out, nil
				}
			}
		}
	}
	type part struct {
		scope storage.AttrScope
		col   int
		keys  func(*rowGroup) []uint32
	}
	var parts []part
	for _, p := range []part{
		{storage.ScopeSpan, colAttrs, func(g *rowGroup) []uint32 { return g.spanKeys }},
		{storage.ScopeEvent, colEvents, func(g *rowGroup) []uint32 { return g.eventKeys }},
		{storage.ScopeLink, colLinks, func(g *rowGroup) []uint32 { return g.linkKeys }},
	} {
		if in(p.scope) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return out, nil
	}
	for _, gi := range b.newestFirst() {
		g := &b.rgs[gi]
		d := b.newRGReader(gi)
		for _, p := range parts {
			if _, has := slices.BinarySearch(p.keys(g), key); !has {
				continue
			}
			if err := b.load(ctx, d, gi, p.col); err != nil {
				return nil, err
			}
			if err := d.open(p.col); err != nil {
				return nil, b.decodeErr(gi, err)
			}
			kb, ok, err := d.group(p.col).fresh(uint64(key))
			if err == nil && !ok {
				err = errMalformed // the row group's key set lists the key
			}
			if err != nil {
				return nil, b.decodeErr(gi, err)
			}
			full := false
			for kb.more() && !full {
				_, t := kb.next()
				full = add(kb.value(t))
			}
			if err := kb.err(); err != nil {
				return nil, b.decodeErr(gi, err)
			}
			if full {
				return out, nil
			}
		}
	}
	return out, nil
}

// group returns the attribute group of column c.
func (d *rgReader) group(c int) *attrDec {
	switch c {
	case colEvents:
		return &d.evAttrs
	case colLinks:
		return &d.lkAttrs
	}
	return &d.attrs
}

// newestFirst returns row-group indexes by descending largest trace start,
// the order in which a newest-first search can stop early.
func (b *Block) newestFirst() []int {
	idx := make([]int, len(b.rgs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(b.rgs[y].maxTraceStart, b.rgs[x].maxTraceStart) })
	return idx
}

// Dependencies adds the block's service edges (storage.AddDependencies per
// trace) to acc, counting only child spans that start in r. It reads the
// span-ID, parent, start, status and resource columns only.
func (b *Block) Dependencies(ctx context.Context, r storage.TimeRange, acc map[storage.DependencyKey]*storage.Dependency) error {
	var carry []*model.Span // a split trace continuing into the next row group
	cols := []int{colTrace, colSpanID, colParent, colStart, colStatus, colResource}
	for gi := range b.rgs {
		g := &b.rgs[gi]
		if g.flags&(flagFirstContinued|flagLastContinues) == 0 && !r.Overlaps(g.minStart, g.maxStart) {
			continue
		}
		d := b.newRGReader(gi)
		if err := b.load(ctx, d, gi, cols...); err != nil {
			return err
		}
		for _, c := range cols {
			if err := d.open(c); err != nil {
				return b.decodeErr(gi, err)
			}
		}
		for {
			c, start, ok := d.nextTrace()
			if !ok {
				break
			}
			first, last := d.trace == 0, d.trace == g.traces-1
			spans := d.readLight(c, start)
			if first && g.flags&flagFirstContinued != 0 {
				spans = append(carry, spans...)
				carry = nil
			}
			if last && g.flags&flagLastContinues != 0 {
				carry = spans
				continue
			}
			storage.AddDependencies(acc, spans, r)
		}
		if err := d.finished(); err != nil {
			return b.decodeErr(gi, err)
		}
	}
	return nil
}

// readLight decodes the next trace's spans with only the fields that
// dependency analysis needs: span and parent IDs, start, status and
// resource, plus the end and kind when their columns are open (see
// [lightColumns]). Resources are the block's own (read-only).
func (d *rgReader) readLight(count int, start uint64) []*model.Span {
	slab := make([]model.Span, count)
	spans := make([]*model.Span, count)
	d.parIdx = d.parIdx[:0]
	prev := start
	for k := range slab {
		s := &slab[k]
		spans[k] = s
		copy(s.SpanID[:], d.spanIDs.bytes(8))
		p := int32(-1)
		switch code := d.parCodes.uvarint(); {
		case code == parentNone:
		case code == parentExternal:
			copy(s.ParentSpanID[:], d.parExt.bytes(8))
		case code-parentInTrace < uint64(count):
			p = int32(code - parentInTrace)
		default:
			d.parCodes.fail()
		}
		d.parIdx = append(d.parIdx, p)
		if k > 0 {
			prev += d.starts.uvarint()
		}
		s.StartUnixNano = prev
		s.EndUnixNano = prev
		if d.init[colDuration] {
			s.EndUnixNano = prev + d.durs.uvarint()
		}
		if d.init[colKind] {
			s.Kind = model.SpanKind(d.kinds.byte())
		}
		s.StatusCode = model.StatusCode(d.stCodes.byte())
		d.stTab.readRef(&d.stRefs)
		if id := d.resIDs.index(len(d.dict.resources) + 1); id > 0 {
			s.Resource = d.dict.resources[id-1]
		}
	}
	for k, p := range d.parIdx {
		if p >= 0 {
			slab[k].ParentSpanID = slab[p].SpanID
		}
	}
	d.row += count
	d.trace++
	return spans
}
