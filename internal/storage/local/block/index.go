package block

import (
	"bytes"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// The index file is the row-group table (see docs/storage-format.md):
//
//	magic "CLWI" | version u8 | uvarint(nRowGroups) | rowgroup* |
//	uvarint(nSplit) | split* | crc32c u32
//
//	rowgroup = uvarint(spans) uvarint(traces)
//	           uvarint(minStart) uvarint(maxStart-minStart)
//	           uvarint(maxTraceStart-minStart) uvarint(maxEnd-minStart)
//	           firstTrace[16] lastTrace[16] flags:u8
//	           set(services) set(names) set(spanKeys) set(eventKeys) set(linkKeys)
//	           numColumns * (uvarint(stored) uvarint(raw) crc32c:u32)
//	set      = uvarint(n) n*uvarint(delta from previous symbol id)
//	split    = traceID[16] uvarint(minStart)
//
// Sections are stored back to back in column order, row group after row
// group, starting right after the data file's header; their offsets are
// implied by the stored sizes, which must add up to the data file's size.
// A trace whose spans do not fit one row group continues in the next one
// (flags) and is listed as a split trace with its block-wide first start.

// Row-group flags.
const (
	flagFirstContinued = 1 << 0 // the first trace started in the previous row group
	flagLastContinues  = 1 << 1 // the last trace continues in the next row group
)

// section locates one column of one row group (parts.go).
type section struct {
	off  int64
	size uint32 // bytes stored
	raw  uint32 // bytes of its parts after decompression
	crc  uint32
}

// rowGroup is one entry of the row-group table.
type rowGroup struct {
	spans, traces int
	minStart      uint64 // of any span
	maxStart      uint64 // of any span
	maxTraceStart uint64 // largest first-span start of a trace (bounds a hit's start)
	maxEnd        uint64
	firstTrace    model.TraceID
	lastTrace     model.TraceID
	flags         byte
	// Sorted symbol ids present in the row group.
	services, names, spanKeys, eventKeys, linkKeys []uint32
	cols                                           [numColumns]section
}

// offset and end give the row group's byte range in the data file.
func (g *rowGroup) offset() int64 { return g.cols[0].off }
func (g *rowGroup) end() int64 {
	c := &g.cols[numColumns-1]
	return c.off + int64(c.size)
}

// splitTrace records the block-wide first start of a trace stored across
// row groups.
type splitTrace struct {
	id       model.TraceID
	minStart uint64
}

func appendSet(b []byte, ids []uint32) []byte {
	b = appendUvarint(b, uint64(len(ids)))
	var prev uint32
	for _, id := range ids {
		b = appendUvarint(b, uint64(id-prev))
		prev = id
	}
	return b
}

func readSet(r *reader, nsym int) []uint32 {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	ids := make([]uint32, n)
	var prev uint64
	for i := range ids {
		d := r.uvarint()
		if i > 0 && d == 0 {
			r.fail() // not strictly increasing
		}
		prev += d
		if prev >= uint64(nsym) {
			r.fail()
			return nil
		}
		ids[i] = uint32(prev)
	}
	return ids
}

// setFromMap returns the sorted ids of m.
func setFromMap(m map[uint32]struct{}) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// marshalIndex renders the index file.
func marshalIndex(rgs []rowGroup, splits []splitTrace) []byte {
	b := append([]byte(magicIndex), FormatVersion)
	b = appendUvarint(b, uint64(len(rgs)))
	for i := range rgs {
		g := &rgs[i]
		b = appendUvarint(b, uint64(g.spans))
		b = appendUvarint(b, uint64(g.traces))
		b = appendUvarint(b, g.minStart)
		b = appendUvarint(b, g.maxStart-g.minStart)
		b = appendUvarint(b, g.maxTraceStart-g.minStart)
		b = appendUvarint(b, g.maxEnd-g.minStart)
		b = append(b, g.firstTrace[:]...)
		b = append(b, g.lastTrace[:]...)
		b = append(b, g.flags)
		for _, s := range [...][]uint32{g.services, g.names, g.spanKeys, g.eventKeys, g.linkKeys} {
			b = appendSet(b, s)
		}
		for c := range g.cols {
			s := &g.cols[c]
			b = appendUvarint(b, uint64(s.size))
			b = appendUvarint(b, uint64(s.raw))
			b = appendU32(b, s.crc)
		}
	}
	b = appendUvarint(b, uint64(len(splits)))
	for _, s := range splits {
		b = append(b, s.id[:]...)
		b = appendUvarint(b, s.minStart)
	}
	return appendU32(b, crc32c(b))
}

// parseIndex decodes and validates an index file. nsym is the number of
// symbols in the block's dict and dataSize the data file's size.
func parseIndex(b []byte, nsym int, dataSize int64) ([]rowGroup, []splitTrace, error) {
	if len(b) < headerLen+crcLen || string(b[:4]) != magicIndex {
		return nil, nil, errMalformed
	}
	body := b[:len(b)-crcLen]
	trailer := newReaderAt(b, len(body))
	if crc32c(body) != trailer.u32() {
		return nil, nil, errChecksum
	}
	if b[4] != FormatVersion {
		return nil, nil, errMalformed
	}
	r := newReader(body[headerLen:])
	n := r.count(16)
	if n == 0 {
		return nil, nil, errMalformed
	}
	rgs := make([]rowGroup, n)
	off := int64(headerLen)
	for i := range rgs {
		g := &rgs[i]
		g.spans = int(r.uvarint())
		g.traces = int(r.uvarint())
		if g.spans <= 0 || g.spans > maxRowGroupSpans || g.traces <= 0 || g.traces > g.spans {
			return nil, nil, errMalformed
		}
		g.minStart = r.uvarint()
		d1, d2, d3 := r.uvarint(), r.uvarint(), r.uvarint()
		if d1 > ^g.minStart || d2 > d1 || d3 > ^g.minStart {
			return nil, nil, errMalformed
		}
		g.maxStart, g.maxTraceStart, g.maxEnd = g.minStart+d1, g.minStart+d2, g.minStart+d3
		copy(g.firstTrace[:], r.bytes(16))
		copy(g.lastTrace[:], r.bytes(16))
		g.flags = r.byte()
		g.services = readSet(&r, nsym)
		g.names = readSet(&r, nsym)
		g.spanKeys = readSet(&r, nsym)
		g.eventKeys = readSet(&r, nsym)
		g.linkKeys = readSet(&r, nsym)
		for c := range g.cols {
			s := &g.cols[c]
			size, raw := r.uvarint(), r.uvarint()
			s.crc = r.u32()
			if size > maxSectionRaw || raw > maxSectionRaw {
				return nil, nil, errMalformed
			}
			s.off, s.size, s.raw = off, uint32(size), uint32(raw)
			off += int64(size)
		}
		if r.err != nil || bytes.Compare(g.firstTrace[:], g.lastTrace[:]) > 0 || g.flags&^(flagFirstContinued|flagLastContinues) != 0 {
			return nil, nil, errMalformed
		}
		if i > 0 {
			p := &rgs[i-1]
			c := bytes.Compare(p.lastTrace[:], g.firstTrace[:])
			cont := p.flags&flagLastContinues != 0
			if cont != (g.flags&flagFirstContinued != 0) || (cont && c != 0) || (!cont && c >= 0) {
				return nil, nil, errMalformed
			}
		}
	}
	if rgs[0].flags&flagFirstContinued != 0 || rgs[n-1].flags&flagLastContinues != 0 || off != dataSize {
		return nil, nil, errMalformed
	}
	ns := r.count(17)
	var splits []splitTrace
	for range ns {
		var s splitTrace
		copy(s.id[:], r.bytes(16))
		s.minStart = r.uvarint()
		if len(splits) > 0 && bytes.Compare(splits[len(splits)-1].id[:], s.id[:]) >= 0 {
			r.fail()
		}
		splits = append(splits, s)
	}
	if !r.done() {
		return nil, nil, errMalformed
	}
	return rgs, splits, nil
}

// newReaderAt returns a reader positioned at off.
func newReaderAt(b []byte, off int) reader {
	r := newReader(b)
	r.skip(off)
	return r
}
