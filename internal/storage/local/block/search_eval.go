package block

import (
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// apply evaluates one condition on every live row of the row group,
// killing the rows that fail it. The condition's columns are open; each
// apply reads them through copies of their readers, so a column can serve
// several conditions.
func (e *rgEval) apply(cp *condPlan) error {
	d, p := e.d, e.p
	n := d.g.spans
	switch cp.kind {
	case ckService:
		r := d.resIDs
		for i := range n {
			if id := r.index(len(cp.resOK)); !cp.resOK[id] {
				e.kill(i)
			}
		}
		return exhausted(&r)
	case ckScopeField:
		r := d.scopeIDs
		for i := range n {
			if id := r.index(len(cp.scopeOK)); !cp.scopeOK[id] {
				e.kill(i)
			}
		}
		return exhausted(&r)
	case ckName:
		r := d.names
		for i := range n {
			if !e.alive[i] {
				r.skip1()
				continue
			}
			if id := r.uvarint(); id >= uint64(len(cp.symOK)) || !p.nameOK(cp, uint32(id)) {
				e.kill(i)
			}
		}
		return exhausted(&r)
	case ckKind, ckStatus:
		b := d.kinds.b
		if cp.kind == ckStatus {
			b = d.stCodes.b
		}
		for i, v := range b[:n] {
			if e.alive[i] && !p.byteOK(cp, v) {
				e.kill(i)
			}
		}
		return nil
	case ckStatusMessage:
		tab := &d.stTab
		tab.next = 0
		r := d.stRefs
		cache := make([]int8, tab.len())
		for i := range n {
			id := tab.readRef(&r)
			if !e.alive[i] || id < 0 {
				continue
			}
			if cache[id] == 0 {
				p.fake.StatusMessage = tab.str(id)
				cache[id] = 2
				if cp.m.MatchConditions(&p.fake) {
					cache[id] = 1
				}
				p.fake.StatusMessage = ""
			}
			if cache[id] != 1 {
				e.kill(i)
			}
		}
		return exhausted(&r)
	case ckDuration:
		r := d.durs
		for i := range n {
			if !e.alive[i] {
				r.skip1()
				continue
			}
			dur := r.uvarint()
			// The stored duration is end-start modulo 2^64; the span ends
			// before it starts (model.Span.Duration is 0) when start+dur
			// overflows, which needs dur >= 2^63 or a start >= 2^63.
			if dur >= 1<<63 && e.starts == nil {
				if err := e.d.open(colStart); err != nil {
					return err
				}
				if err := e.loadStarts(); err != nil {
					return err
				}
			}
			if e.starts != nil {
				if start := e.starts[i]; start+dur < start {
					dur = 0
				}
			}
			var ok bool
			if cp.pred.fast {
				ok = numCmp(cp.pred.op, float64(int64(dur)), cp.pred.num)
			} else {
				p.fake.StartUnixNano, p.fake.EndUnixNano = 0, dur
				ok = cp.m.MatchConditions(&p.fake)
				p.fake.EndUnixNano = 0
			}
			if !ok {
				e.kill(i)
			}
		}
		return exhausted(&r)
	}
	return e.applyAttr(cp)
}

// exhausted checks that a column was read exactly to its end.
func exhausted(r *reader) error {
	if !r.done() {
		return errMalformed
	}
	return nil
}

func (e *rgEval) applyAttr(cp *condPlan) error {
	d, g := e.d, e.d.g
	n := g.spans
	hit := make([]bool, n)
	if cp.inRes && cp.anyRes {
		r := d.resIDs
		for i := range n {
			if cp.resOK[r.index(len(cp.resOK))] {
				hit[i] = true
			}
		}
		if err := exhausted(&r); err != nil {
			return err
		}
	}
	if cp.inScope && cp.anyScp {
		r := d.scopeIDs
		for i := range n {
			if cp.scopeOK[r.index(len(cp.scopeOK))] {
				hit[i] = true
			}
		}
		if err := exhausted(&r); err != nil {
			return err
		}
	}
	if cp.inSpan && hasKey(g.spanKeys, cp.key) {
		if err := e.scanKey(&d.attrs, cp, hit, nil); err != nil {
			return err
		}
	}
	if cp.inEv && hasKey(g.eventKeys, cp.key) {
		owner, err := listOwners(d.evCounts, n, d.evDropped.remaining())
		if err != nil {
			return err
		}
		if err := e.scanKey(&d.evAttrs, cp, hit, owner); err != nil {
			return err
		}
	}
	if cp.inLink && hasKey(g.linkKeys, cp.key) {
		owner, err := listOwners(d.lkCounts, n, d.lkOther.remaining())
		if err != nil {
			return err
		}
		if err := e.scanKey(&d.lkAttrs, cp, hit, owner); err != nil {
			return err
		}
	}
	for i, h := range hit {
		if h == cp.notExists {
			e.kill(i)
		}
	}
	return nil
}

// listOwners maps each event (or link) to its span, from the per-span
// counts; max bounds the total.
func listOwners(counts reader, spans, max int) ([]int32, error) {
	owner := make([]int32, 0, max)
	for i := range spans {
		k := counts.uvarint()
		if k > uint64(max-len(owner)) {
			return nil, errMalformed
		}
		for range k {
			owner = append(owner, int32(i))
		}
	}
	if !counts.done() {
		return nil, errMalformed
	}
	return owner, nil
}

// scanKey sets hit for every span with a value of the condition's key that
// satisfies it, reading only that key's value block. owner maps list
// indexes to spans (nil when lists are spans). String values are evaluated
// once per distinct string of the block.
func (e *rgEval) scanKey(a *attrDec, cp *condPlan, hit []bool, owner []int32) error {
	kb, ok, err := a.fresh(cp.key)
	if err != nil {
		return err
	}
	if !ok {
		return errMalformed // the row group's key set lists the key
	}
	if cp.pred.strFast && cp.pred.op == storage.OpEqual && kb.oneType(model.TypeString) && kb.tab.find(cp.pred.target) < 0 {
		return nil // every value is a string and none is the one wanted
	}
	var cache []int8
	var intCache map[int64]bool
	// test evaluates the value of type t just reached for span.
	test := func(span int, t model.ValueType) {
		if hit[span] || !e.alive[span] {
			kb.skipValue(t)
			return
		}
		if cp.pred.always {
			kb.skipValue(t)
			hit[span] = true
			return
		}
		if t == model.TypeInt && !cp.pred.fast {
			// A string condition on an integer compares its text form:
			// evaluate each distinct integer once.
			v := kb.value(t)
			ok, seen := intCache[v.Int]
			if !seen {
				if intCache == nil {
					intCache = map[int64]bool{}
				}
				ok = cp.pred.eval(v)
				intCache[v.Int] = ok
			}
			hit[span] = ok
			return
		}
		if t != model.TypeString {
			hit[span] = cp.pred.eval(kb.value(t))
			return
		}
		id := kb.tab.readRef(&kb.refs)
		if id < 0 {
			return
		}
		if cache == nil {
			cache = make([]int8, kb.tab.len())
		}
		if cache[id] == 0 {
			cache[id] = 2
			if cp.pred.evalString(kb.tab.bytes(id)) {
				cache[id] = 1
			}
		}
		hit[span] = cache[id] == 1
	}
	if owner == nil {
		// Lists are spans: jump (in bulk) from one live span to the next.
		for i := range hit {
			if !e.alive[i] || hit[i] {
				continue
			}
			kb.seek(i)
			for kb.more() && kb.peekRow() == i && kb.err() == nil {
				_, t := kb.next()
				test(i, t)
			}
		}
		return kb.err()
	}
	for kb.more() && kb.err() == nil {
		row, t := kb.next()
		if row >= len(owner) {
			return errMalformed
		}
		test(int(owner[row]), t)
	}
	if !kb.done() {
		return cmpOr(kb.err(), errMalformed)
	}
	return nil
}
