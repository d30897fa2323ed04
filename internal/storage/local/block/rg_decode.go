package block

import (
	"github.com/clew-tracing/clew/internal/model"
)

// streamCounts is the number of streams in each column's payload.
var streamCounts = [numColumns]int{
	colTrace: 3, colSpanID: 1, colParent: 2, colStart: 1, colDuration: 1, colName: 1,
	colKind: 1, colStatus: 4, colResource: 1, colScope: 1,
	colAttrs: attrStructStreams, colEvents: 6 + attrStructStreams, colLinks: 9 + attrStructStreams, colMisc: 7,
}

// rgReader decodes the columns of one row group sequentially, trace by
// trace. Columns are initialised on demand from decompressed payloads, so a
// search touches only the columns it loaded. Every read is bounds-checked;
// errors are sticky in the column readers and collected by err.
type rgReader struct {
	dict *blockDict
	g    *rowGroup
	// sec holds each loaded column's decompressed first part, parts all its
	// stored parts (value blocks are decompressed on demand).
	sec        [numColumns][]byte
	parts      [numColumns][]storedPart
	decompress func(codec byte, data []byte, raw uint32) ([]byte, error)
	init       [numColumns]bool

	trIDs              []byte
	trCounts, trStarts reader

	spanIDs, parCodes, parExt reader
	starts, durs, names       reader
	kinds                     reader
	stCodes, stRefs           reader
	stTab                     strTableDec
	resIDs, scopeIDs          reader

	attrs attrDec

	evCounts, evTimes, evNames, evDropped reader
	evAttrs                               attrDec
	evNameTab                             strTableDec

	lkCounts, lkOther, lkTIDs, lkSIDs, lkStates, lkFlags, lkDrp reader
	lkAttrs                                                     attrDec
	lkStateTab                                                  strTableDec

	mFlags, mStates, mDA, mDE, mDL reader
	mTab                           strTableDec

	// Position: traces and spans consumed so far.
	trace, row int

	// Materialisation state for one decode call.
	shareStrings bool
	resClones    map[uint32]*model.Resource
	scopeClones  map[uint32]*model.Scope
	kvSlab       []model.KeyValue
	parIdx       []int32
}

// valueBlocks returns the loader of column c's attribute value blocks and
// their number.
func (d *rgReader) valueBlocks(c int) (int, func(int) ([]byte, error)) {
	parts := d.parts[c]
	if len(parts) == 0 {
		return 0, nil
	}
	return len(parts) - 1, func(i int) ([]byte, error) {
		p := parts[i+1]
		return d.decompress(p.codec, p.data, p.raw)
	}
}

// setShare makes string materialisation share one allocation per table,
// for whole-row-group decodes.
func (d *rgReader) setShare() {
	d.shareStrings = true
	for _, t := range [...]*strTableDec{&d.evNameTab, &d.lkStateTab, &d.stTab, &d.mTab} {
		t.share()
	}
	for _, a := range [...]*attrDec{&d.attrs, &d.evAttrs, &d.lkAttrs} {
		a.share = true
	}
}

// open initialises column c from its payload (which must be loaded).
func (d *rgReader) open(c int) error {
	if d.init[c] {
		return nil
	}
	if d.sec[c] == nil {
		return errMalformed
	}
	var s [20][]byte
	st := s[:streamCounts[c]]
	if err := splitStreams(d.sec[c], st); err != nil {
		return err
	}
	n, t := d.g.spans, d.g.traces
	syms := d.dict.syms
	switch c {
	case colTrace:
		if len(st[0]) != 16*t {
			return errMalformed
		}
		d.trIDs, d.trCounts, d.trStarts = st[0], newReader(st[1]), newReader(st[2])
	case colSpanID:
		if len(st[0]) != 8*n {
			return errMalformed
		}
		d.spanIDs = newReader(st[0])
	case colParent:
		d.parCodes, d.parExt = newReader(st[0]), newReader(st[1])
	case colStart:
		d.starts = newReader(st[0])
	case colDuration:
		d.durs = newReader(st[0])
	case colName:
		d.names = newReader(st[0])
	case colKind:
		if len(st[0]) != n {
			return errMalformed
		}
		d.kinds = newReader(st[0])
	case colStatus:
		if len(st[0]) != n {
			return errMalformed
		}
		d.stCodes, d.stRefs = newReader(st[0]), newReader(st[1])
		if err := d.stTab.init(st[2], st[3]); err != nil {
			return err
		}
	case colResource:
		d.resIDs = newReader(st[0])
	case colScope:
		d.scopeIDs = newReader(st[0])
	case colAttrs:
		n, load := d.valueBlocks(c)
		if err := d.attrs.init(st, d.g.spans, syms, n, load); err != nil {
			return err
		}
	case colEvents:
		d.evCounts, d.evTimes, d.evNames, d.evDropped = newReader(st[0]), newReader(st[1]), newReader(st[2]), newReader(st[3])
		if err := d.evNameTab.init(st[4], st[5]); err != nil {
			return err
		}
		events, err := sumCounts(st[0], d.g.spans, len(st[3]))
		if err != nil {
			return err
		}
		n, load := d.valueBlocks(c)
		if err := d.evAttrs.init(st[6:], events, syms, n, load); err != nil {
			return err
		}
	case colLinks:
		d.lkCounts, d.lkOther, d.lkTIDs, d.lkSIDs = newReader(st[0]), newReader(st[1]), newReader(st[2]), newReader(st[3])
		d.lkStates, d.lkFlags, d.lkDrp = newReader(st[4]), newReader(st[5]), newReader(st[6])
		if err := d.lkStateTab.init(st[7], st[8]); err != nil {
			return err
		}
		links, err := sumCounts(st[0], d.g.spans, len(st[1]))
		if err != nil {
			return err
		}
		n, load := d.valueBlocks(c)
		if err := d.lkAttrs.init(st[9:], links, syms, n, load); err != nil {
			return err
		}
	case colMisc:
		d.mFlags, d.mStates, d.mDA, d.mDE, d.mDL = newReader(st[0]), newReader(st[1]), newReader(st[2]), newReader(st[3]), newReader(st[4])
		if err := d.mTab.init(st[5], st[6]); err != nil {
			return err
		}
	}
	d.init[c] = true
	return nil
}

// sumCounts adds up the n per-span counts of a stream (events or links
// per span), checking the total against max (a bound from a stream with
// at least one byte per item).
func sumCounts(counts []byte, n, max int) (int, error) {
	r := newReader(counts)
	total := uint64(0)
	for range n {
		total += r.uvarint()
		if total > uint64(max) {
			return 0, errMalformed
		}
	}
	if !r.done() {
		return 0, errMalformed
	}
	return int(total), nil
}

// openAll initialises every column.
func (d *rgReader) openAll() error {
	for c := range numColumns {
		if err := d.open(c); err != nil {
			return err
		}
	}
	return nil
}

// readers lists every sequential reader, for error collection.
func (d *rgReader) readers() []*reader {
	return []*reader{
		&d.trCounts, &d.trStarts, &d.spanIDs, &d.parCodes, &d.parExt, &d.starts, &d.durs, &d.names,
		&d.kinds, &d.stCodes, &d.stRefs, &d.resIDs, &d.scopeIDs,
		&d.evCounts, &d.evTimes, &d.evNames, &d.evDropped,
		&d.lkCounts, &d.lkOther, &d.lkTIDs, &d.lkSIDs, &d.lkStates, &d.lkFlags, &d.lkDrp,
		&d.mFlags, &d.mStates, &d.mDA, &d.mDE, &d.mDL,
	}
}

// err returns the first decoding error of any column.
func (d *rgReader) err() error {
	for _, r := range d.readers() {
		if r.err != nil {
			return r.err
		}
	}
	for _, a := range [...]*attrDec{&d.attrs, &d.evAttrs, &d.lkAttrs} {
		if err := a.err(); err != nil {
			return err
		}
	}
	return nil
}

// finished checks, after every row was read, that every opened column was
// consumed exactly: trailing bytes mean the data is not what was written.
func (d *rgReader) finished() error {
	if err := d.err(); err != nil {
		return err
	}
	if d.trace != d.g.traces || d.row != d.g.spans {
		return errMalformed
	}
	type col struct {
		c  int
		rs []*reader
	}
	for _, x := range []col{
		{colTrace, []*reader{&d.trCounts, &d.trStarts}},
		{colSpanID, []*reader{&d.spanIDs}},
		{colParent, []*reader{&d.parCodes, &d.parExt}},
		{colStart, []*reader{&d.starts}},
		{colDuration, []*reader{&d.durs}},
		{colName, []*reader{&d.names}},
		{colKind, []*reader{&d.kinds}},
		{colStatus, []*reader{&d.stCodes, &d.stRefs}},
		{colResource, []*reader{&d.resIDs}},
		{colScope, []*reader{&d.scopeIDs}},
		{colEvents, []*reader{&d.evCounts, &d.evTimes, &d.evNames, &d.evDropped}},
		{colLinks, []*reader{&d.lkCounts, &d.lkOther, &d.lkTIDs, &d.lkSIDs, &d.lkStates, &d.lkFlags, &d.lkDrp}},
		{colMisc, []*reader{&d.mFlags, &d.mStates, &d.mDA, &d.mDE, &d.mDL}},
	} {
		if !d.init[x.c] {
			continue
		}
		for _, r := range x.rs {
			if !r.done() {
				return errMalformed
			}
		}
	}
	if d.init[colAttrs] && !d.attrs.done() || d.init[colEvents] && !d.evAttrs.done() || d.init[colLinks] && !d.lkAttrs.done() {
		return errMalformed
	}
	return nil
}

// traceID returns the ID of trace i of the row group.
func (d *rgReader) traceID(i int) model.TraceID { return model.TraceID(d.trIDs[16*i : 16*i+16]) }

// findTrace binary-searches the trace column for id.
func (d *rgReader) findTrace(id model.TraceID) (int, bool) {
	lo, hi := 0, d.g.traces
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		t := d.traceID(m)
		if string(t[:]) < string(id[:]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < d.g.traces && d.traceID(lo) == id
}

// nextTrace reads the next trace's span count and first start. It fails
// when the counts do not add up to the row group's span count.
func (d *rgReader) nextTrace() (count int, start uint64, ok bool) {
	if d.trace >= d.g.traces {
		return 0, 0, false
	}
	c := d.trCounts.uvarint()
	s := d.trStarts.uvarint()
	left := d.g.spans - d.row
	if c == 0 || c > uint64(left) || (d.trace == d.g.traces-1 && c != uint64(left)) || d.trCounts.err != nil || d.trStarts.err != nil {
		d.trCounts.fail()
		return 0, 0, false
	}
	return int(c), d.g.minStart + s, true
}

// skipSpans skips the spans of a trace of count spans in every opened
// column; the caller has consumed its trace-column entries.
func (d *rgReader) skipSpans(count int) {
	if d.init[colSpanID] {
		d.spanIDs.skip(8 * count)
	}
	if d.init[colParent] {
		for range count {
			if d.parCodes.uvarint() == parentExternal {
				d.parExt.skip(8)
			}
		}
	}
	if d.init[colStart] {
		d.starts.skipUvarints(count - 1)
	}
	if d.init[colDuration] {
		d.durs.skipUvarints(count)
	}
	if d.init[colName] {
		d.names.skipUvarints(count)
	}
	if d.init[colKind] {
		d.kinds.skip(count)
	}
	if d.init[colStatus] {
		d.stCodes.skip(count)
		for range count {
			d.stTab.readRef(&d.stRefs)
		}
	}
	if d.init[colResource] {
		d.resIDs.skipUvarints(count)
	}
	if d.init[colScope] {
		d.scopeIDs.skipUvarints(count)
	}
	if d.init[colAttrs] {
		d.attrs.skipLists(count)
	}
	if d.init[colEvents] {
		for range count {
			d.skipEvents()
		}
	}
	if d.init[colLinks] {
		for range count {
			d.skipLinks()
		}
	}
	if d.init[colMisc] {
		d.mFlags.skipUvarints(count)
		for range count {
			d.mTab.readRef(&d.mStates)
		}
		d.mDA.skipUvarints(count)
		d.mDE.skipUvarints(count)
		d.mDL.skipUvarints(count)
	}
	d.row += count
	d.trace++
}

// eventCount reads a span's event count, bounded by the events left.
func (d *rgReader) eventCount() int {
	n := d.evCounts.uvarint()
	if n > uint64(d.evDropped.remaining()) {
		d.evCounts.fail()
		return 0
	}
	return int(n)
}

func (d *rgReader) skipEvents() {
	n := d.eventCount()
	d.evTimes.skipUvarints(n)
	for range n {
		d.evNameTab.readRef(&d.evNames)
	}
	d.evDropped.skipUvarints(n)
	d.evAttrs.skipLists(n)
}

func (d *rgReader) linkCount() int {
	n := d.lkCounts.uvarint()
	if n > uint64(d.lkOther.remaining()) {
		d.lkCounts.fail()
		return 0
	}
	return int(n)
}

func (d *rgReader) skipLinks() {
	n := d.linkCount()
	for range n {
		if d.lkOther.byte() != 0 {
			d.lkTIDs.skip(16)
		}
	}
	d.lkSIDs.skip(8 * n)
	for range n {
		d.lkStateTab.readRef(&d.lkStates)
	}
	d.lkFlags.skipUvarints(n)
	d.lkDrp.skipUvarints(n)
	d.lkAttrs.skipLists(n)
}

// kvs carves n key-values from a slab, so that a row group's attributes
// take a few allocations instead of one per list. A whole-row-group decode
// sizes the slab to the row group (the types streams hold one byte per
// top-level key-value); a trace decode uses small chunks.
func (d *rgReader) kvs(n int) []model.KeyValue {
	if n == 0 {
		return nil
	}
	if n > len(d.kvSlab) {
		size := 256
		if d.shareStrings {
			size = d.attrs.remainingKVs() + d.evAttrs.remainingKVs() + d.lkAttrs.remainingKVs()
		}
		d.kvSlab = make([]model.KeyValue, max(n, size))
	}
	s := d.kvSlab[:n:n]
	d.kvSlab = d.kvSlab[n:]
	return s
}

// resource returns the caller's copy of resource id (0 is nil).
func (d *rgReader) resource(id int) *model.Resource {
	if id == 0 {
		return nil
	}
	if r, ok := d.resClones[uint32(id)]; ok {
		return r
	}
	src := d.dict.resources[id-1]
	r := &model.Resource{ServiceName: src.ServiceName, SchemaURL: src.SchemaURL, Attributes: cloneKVs(src.Attributes)}
	if d.resClones == nil {
		d.resClones = map[uint32]*model.Resource{}
	}
	d.resClones[uint32(id)] = r
	return r
}

func (d *rgReader) scope(id int) *model.Scope {
	if id == 0 {
		return nil
	}
	if s, ok := d.scopeClones[uint32(id)]; ok {
		return s
	}
	src := d.dict.scopes[id-1]
	s := &model.Scope{Name: src.Name, Version: src.Version, SchemaURL: src.SchemaURL, Attributes: cloneKVs(src.Attributes)}
	if d.scopeClones == nil {
		d.scopeClones = map[uint32]*model.Scope{}
	}
	d.scopeClones[uint32(id)] = s
	return s
}

// readSpans decodes the next trace's count spans (all columns must be
// open), appending them to dst.
func (d *rgReader) readSpans(dst []*model.Span, count int, start uint64, id model.TraceID) []*model.Span {
	slab := make([]model.Span, count)
	d.parIdx = d.parIdx[:0]
	prev := start
	nsym := len(d.dict.syms)
	for k := range slab {
		s := &slab[k]
		s.TraceID = id
		copy(s.SpanID[:], d.spanIDs.bytes(8))
		p := int32(-1)
		switch code := d.parCodes.uvarint(); {
		case code == parentNone:
		case code == parentExternal:
			copy(s.ParentSpanID[:], d.parExt.bytes(8))
		case code-parentInTrace < uint64(count):
			p = int32(code - parentInTrace) // resolved once every span ID of the trace is known
		default:
			d.parCodes.fail()
		}
		d.parIdx = append(d.parIdx, p)
		if k > 0 {
			prev += d.starts.uvarint()
		}
		s.StartUnixNano = prev
		s.EndUnixNano = prev + d.durs.uvarint()
		s.Name = d.dict.syms[d.names.index(nsym)]
		s.Kind = model.SpanKind(d.kinds.byte())
		s.StatusCode = model.StatusCode(d.stCodes.byte())
		s.StatusMessage = d.stTab.str(d.stTab.readRef(&d.stRefs))
		s.Resource = d.resource(d.resIDs.index(len(d.dict.resources) + 1))
		s.Scope = d.scope(d.scopeIDs.index(len(d.dict.scopes) + 1))
		s.Attributes = d.kvs(d.attrs.count())
		d.attrs.readList(s.Attributes)
		d.readEvents(s)
		d.readLinks(s)
		s.Flags = d.mFlags.u32v()
		s.TraceState = d.mTab.str(d.mTab.readRef(&d.mStates))
		s.DroppedAttributesCount = d.mDA.u32v()
		s.DroppedEventsCount = d.mDE.u32v()
		s.DroppedLinksCount = d.mDL.u32v()
		dst = append(dst, s)
	}
	for k, p := range d.parIdx {
		if p >= 0 {
			slab[k].ParentSpanID = slab[p].SpanID
		}
	}
	d.row += count
	d.trace++
	return dst
}

func (d *rgReader) readEvents(s *model.Span) {
	n := d.eventCount()
	if n == 0 {
		return
	}
	s.Events = make([]model.Event, n)
	for i := range s.Events {
		ev := &s.Events[i]
		ev.TimeUnixNano = s.StartUnixNano + uint64(d.evTimes.varint())
		ev.Name = d.evNameTab.str(d.evNameTab.readRef(&d.evNames))
		ev.DroppedAttributesCount = d.evDropped.u32v()
		ev.Attributes = d.kvs(d.evAttrs.count())
		d.evAttrs.readList(ev.Attributes)
	}
}

func (d *rgReader) readLinks(s *model.Span) {
	n := d.linkCount()
	if n == 0 {
		return
	}
	s.Links = make([]model.Link, n)
	for i := range s.Links {
		l := &s.Links[i]
		if d.lkOther.byte() != 0 {
			copy(l.TraceID[:], d.lkTIDs.bytes(16))
		} else {
			l.TraceID = s.TraceID
		}
		copy(l.SpanID[:], d.lkSIDs.bytes(8))
		l.TraceState = d.lkStateTab.str(d.lkStateTab.readRef(&d.lkStates))
		l.Flags = d.lkFlags.u32v()
		l.DroppedAttributesCount = d.lkDrp.u32v()
		l.Attributes = d.kvs(d.lkAttrs.count())
		d.lkAttrs.readList(l.Attributes)
	}
}
