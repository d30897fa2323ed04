package block

import (
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// rgEncoder turns the spans of one row group into column payloads. It is
// reused across row groups so that its buffers stop growing once they fit a
// row group.
type rgEncoder struct {
	d *dictBuilder

	evNameTab, linkStateTab, statusTab, miscTab strTable
	attrs, evAttrs, linkAttrs                   attrEnc

	trIDs, trCounts, trStarts                                   []byte
	spanIDs, parCodes, parExt                                   []byte
	starts, durs, names, kinds                                  []byte
	stCodes, stRefs                                             []byte
	resIDs, scopeIDs                                            []byte
	evCounts, evTimes, evNames, evDropped                       []byte
	lkCounts, lkOther, lkTIDs, lkSIDs, lkStates, lkFlags, lkDrp []byte
	mFlags, mStates, mDA, mDE, mDL                              []byte

	// parts holds each column's section parts: the main payload, then
	// (for attribute-bearing columns) one value block per attribute key.
	parts [numColumns][][]byte

	resCache   map[*model.Resource]uint32
	scopeCache map[*model.Scope]uint32
	parentIdx  map[model.SpanID]int

	services, names2, spanKeys, evKeys, linkKeys map[uint32]struct{}
	// nameSyms caches the symbols of recent span names.
	nameSyms strMRU
}

func newRGEncoder(d *dictBuilder) *rgEncoder {
	return &rgEncoder{
		d:          d,
		resCache:   map[*model.Resource]uint32{},
		scopeCache: map[*model.Scope]uint32{},
		parentIdx:  map[model.SpanID]int{},
		services:   map[uint32]struct{}{},
		names2:     map[uint32]struct{}{},
		spanKeys:   map[uint32]struct{}{},
		evKeys:     map[uint32]struct{}{},
		linkKeys:   map[uint32]struct{}{},
	}
}

func (e *rgEncoder) reset() {
	for _, t := range [...]*strTable{&e.evNameTab, &e.linkStateTab, &e.statusTab, &e.miscTab} {
		t.reset()
	}
	for _, a := range [...]*attrEnc{&e.attrs, &e.evAttrs, &e.linkAttrs} {
		a.reset()
	}
	for _, b := range [...]*[]byte{
		&e.trIDs, &e.trCounts, &e.trStarts, &e.spanIDs, &e.parCodes, &e.parExt,
		&e.starts, &e.durs, &e.names, &e.kinds, &e.stCodes, &e.stRefs, &e.resIDs, &e.scopeIDs,
		&e.evCounts, &e.evTimes, &e.evNames, &e.evDropped,
		&e.lkCounts, &e.lkOther, &e.lkTIDs, &e.lkSIDs, &e.lkStates, &e.lkFlags, &e.lkDrp,
		&e.mFlags, &e.mStates, &e.mDA, &e.mDE, &e.mDL,
	} {
		*b = (*b)[:0]
	}
	// NB: the pointer caches are per row group so that they cannot grow
	// with the number of distinct (but equal) Resource objects in a block.
	clear(e.resCache)
	clear(e.scopeCache)
	for _, m := range [...]map[uint32]struct{}{e.services, e.names2, e.spanKeys, e.evKeys, e.linkKeys} {
		clear(m)
	}
}

// encode fills e.payload with the columns of spans, which are sorted by
// trace ID (and by start within a trace), and returns the row group's
// statistics; the caller fills in flags and sections.
func (e *rgEncoder) encode(spans []*model.Span) rowGroup {
	e.reset()
	g := rowGroup{spans: len(spans), minStart: spans[0].StartUnixNano, firstTrace: spans[0].TraceID, lastTrace: spans[len(spans)-1].TraceID}
	for _, s := range spans {
		g.minStart = min(g.minStart, s.StartUnixNano)
		g.maxStart = max(g.maxStart, s.StartUnixNano)
		g.maxEnd = max(g.maxEnd, s.EndUnixNano, s.StartUnixNano)
	}
	g.maxTraceStart = g.minStart
	for i := 0; i < len(spans); {
		j := i + 1
		for j < len(spans) && spans[j].TraceID == spans[i].TraceID {
			j++
		}
		e.encodeTrace(spans[i:j], g.minStart)
		g.maxTraceStart = max(g.maxTraceStart, spans[i].StartUnixNano)
		g.traces++
		i = j
	}
	g.services = setFromMap(e.services)
	g.names = setFromMap(e.names2)
	g.spanKeys = setFromMap(e.spanKeys)
	g.eventKeys = setFromMap(e.evKeys)
	g.linkKeys = setFromMap(e.linkKeys)
	for _, k := range g.spanKeys {
		e.d.attrNames[attrNameKey{storage.ScopeSpan, k}] = struct{}{}
	}
	for _, k := range g.eventKeys {
		e.d.attrNames[attrNameKey{storage.ScopeEvent, k}] = struct{}{}
	}
	for _, k := range g.linkKeys {
		e.d.attrNames[attrNameKey{storage.ScopeLink, k}] = struct{}{}
	}

	for c := range e.parts {
		e.parts[c] = e.parts[c][:0]
	}
	one := func(c int, streams ...[]byte) { e.parts[c] = append(e.parts[c], appendStreams(nil, streams...)) }
	one(colTrace, e.trIDs, e.trCounts, e.trStarts)
	one(colSpanID, e.spanIDs)
	one(colParent, e.parCodes, e.parExt)
	one(colStart, e.starts)
	one(colDuration, e.durs)
	one(colName, e.names)
	one(colKind, e.kinds)
	one(colStatus, e.stCodes, e.stRefs, e.statusTab.lens, e.statusTab.data)
	one(colResource, e.resIDs)
	one(colScope, e.scopeIDs)
	a := e.attrs.structure()
	one(colAttrs, a[:]...)
	e.parts[colAttrs] = e.attrs.appendParts(e.parts[colAttrs])
	ea := e.evAttrs.structure()
	one(colEvents, append([][]byte{e.evCounts, e.evTimes, e.evNames, e.evDropped, e.evNameTab.lens, e.evNameTab.data}, ea[:]...)...)
	e.parts[colEvents] = e.evAttrs.appendParts(e.parts[colEvents])
	la := e.linkAttrs.structure()
	one(colLinks, append([][]byte{e.lkCounts, e.lkOther, e.lkTIDs, e.lkSIDs, e.lkStates, e.lkFlags, e.lkDrp, e.linkStateTab.lens, e.linkStateTab.data}, la[:]...)...)
	e.parts[colLinks] = e.linkAttrs.appendParts(e.parts[colLinks])
	one(colMisc, e.mFlags, e.mStates, e.mDA, e.mDE, e.mDL, e.miscTab.lens, e.miscTab.data)
	return g
}

// Parent codes in the parent column.
const (
	parentNone     = 0 // zero parent span ID: a root
	parentExternal = 1 // 8 raw bytes in the external stream
	parentInTrace  = 2 // code-2 is the index of the parent within the trace
)

func (e *rgEncoder) encodeTrace(ts []*model.Span, minStart uint64) {
	e.trIDs = append(e.trIDs, ts[0].TraceID[:]...)
	e.trCounts = appendUvarint(e.trCounts, uint64(len(ts)))
	e.trStarts = appendUvarint(e.trStarts, ts[0].StartUnixNano-minStart)
	useMap := len(ts) > 16
	if useMap {
		clear(e.parentIdx)
		for k := len(ts) - 1; k >= 0; k-- { // first occurrence wins
			e.parentIdx[ts[k].SpanID] = k
		}
	}
	d := e.d
	for k, s := range ts {
		e.spanIDs = append(e.spanIDs, s.SpanID[:]...)
		switch {
		case s.ParentSpanID.IsZero():
			e.parCodes = append(e.parCodes, parentNone)
		default:
			p := -1
			if useMap {
				if i, ok := e.parentIdx[s.ParentSpanID]; ok {
					p = i
				}
			} else {
				for i, t := range ts {
					if t.SpanID == s.ParentSpanID {
						p = i
						break
					}
				}
			}
			if p >= 0 {
				e.parCodes = appendUvarint(e.parCodes, uint64(p+parentInTrace))
			} else {
				e.parCodes = append(e.parCodes, parentExternal)
				e.parExt = append(e.parExt, s.ParentSpanID[:]...)
			}
		}
		if k > 0 {
			e.starts = appendUvarint(e.starts, s.StartUnixNano-ts[k-1].StartUnixNano)
		}
		e.durs = appendUvarint(e.durs, s.EndUnixNano-s.StartUnixNano) // wraps when End < Start; decoding undoes it

		rid, ok := e.resCache[s.Resource]
		if !ok {
			rid = d.resource(s.Resource)
			e.resCache[s.Resource] = rid
		}
		e.resIDs = appendUvarint(e.resIDs, uint64(rid))
		svc := uint32(0)
		if rid > 0 {
			svc = d.resSvc[rid-1]
		}
		e.services[svc] = struct{}{}
		d.services[svc] = struct{}{}

		name, ok := e.nameSyms.get(s.Name)
		if !ok {
			name = d.sym(s.Name)
			e.nameSyms.put(s.Name, name)
		}
		e.names = appendUvarint(e.names, uint64(name))
		e.names2[name] = struct{}{}
		d.ops[opKey{svc, name, s.Kind}] = struct{}{}
		e.kinds = append(e.kinds, byte(s.Kind))
		e.stCodes = append(e.stCodes, byte(s.StatusCode))
		e.stRefs = e.statusTab.ref(e.stRefs, s.StatusMessage)

		sid, ok := e.scopeCache[s.Scope]
		if !ok {
			sid = d.scope(s.Scope)
			e.scopeCache[s.Scope] = sid
		}
		e.scopeIDs = appendUvarint(e.scopeIDs, uint64(sid))

		e.attrs.add(s.Attributes, d.sym, e.spanKeys)

		e.evCounts = appendUvarint(e.evCounts, uint64(len(s.Events)))
		for i := range s.Events {
			ev := &s.Events[i]
			e.evTimes = appendUvarint(e.evTimes, zigzag(int64(ev.TimeUnixNano-s.StartUnixNano)))
			e.evNames = e.evNameTab.ref(e.evNames, ev.Name)
			e.evDropped = appendUvarint(e.evDropped, uint64(ev.DroppedAttributesCount))
			e.evAttrs.add(ev.Attributes, d.sym, e.evKeys)
		}

		e.lkCounts = appendUvarint(e.lkCounts, uint64(len(s.Links)))
		for i := range s.Links {
			l := &s.Links[i]
			if l.TraceID == s.TraceID {
				e.lkOther = append(e.lkOther, 0)
			} else {
				e.lkOther = append(e.lkOther, 1)
				e.lkTIDs = append(e.lkTIDs, l.TraceID[:]...)
			}
			e.lkSIDs = append(e.lkSIDs, l.SpanID[:]...)
			e.lkStates = e.linkStateTab.ref(e.lkStates, l.TraceState)
			e.lkFlags = appendUvarint(e.lkFlags, uint64(l.Flags))
			e.lkDrp = appendUvarint(e.lkDrp, uint64(l.DroppedAttributesCount))
			e.linkAttrs.add(l.Attributes, d.sym, e.linkKeys)
		}

		e.mFlags = appendUvarint(e.mFlags, uint64(s.Flags))
		e.mStates = e.miscTab.ref(e.mStates, s.TraceState)
		e.mDA = appendUvarint(e.mDA, uint64(s.DroppedAttributesCount))
		e.mDE = appendUvarint(e.mDE, uint64(s.DroppedEventsCount))
		e.mDL = appendUvarint(e.mDL, uint64(s.DroppedLinksCount))
	}
}
