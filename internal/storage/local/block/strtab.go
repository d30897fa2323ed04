package block

import "bytes"

// strTable deduplicates the strings of one column of one row group. Each
// string is written as a reference: 0 means "the next new string of the
// table" (so a string seen once costs one byte plus its text), and k > 0
// means the string with id k-1, which has been seen before. The table itself
// is two streams: uvarint lengths and the concatenated bytes, in order of
// first use.
type strTable struct {
	ids    map[string]uint32
	lens   []byte
	data   []byte
	recent strMRU
	// tries and hits count the recent cache's use, so that a table whose
	// values rarely repeat nearby (IDs) stops consulting it.
	tries, hits int
}

// mruProbe is how many lookups decide whether a table's recent cache pays:
// it is kept when at least a quarter of them hit.
const mruProbe = 64

func (t *strTable) reset() {
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	clear(t.ids)
	t.lens = t.lens[:0]
	t.data = t.data[:0]
	t.recent = strMRU{}
	t.tries, t.hits = 0, 0
}

// ref appends the reference to s to dst.
func (t *strTable) ref(dst []byte, s string) []byte {
	var id uint32
	ok := false
	if t.tries < mruProbe || 4*t.hits >= mruProbe {
		if id, ok = t.recent.get(s); ok && t.tries < mruProbe {
			t.hits++
		}
		t.tries = min(t.tries+1, mruProbe)
	}
	if !ok {
		id, ok = t.ids[s]
		if !ok {
			t.recent.put(s, uint32(len(t.ids)))
			t.ids[s] = uint32(len(t.ids))
			t.lens = appendUvarint(t.lens, uint64(len(s)))
			t.data = append(t.data, s...)
			return append(dst, 0)
		}
		t.recent.put(s, id)
	}
	return appendUvarint(dst, uint64(id)+1)
}

// strMRU remembers the ids of the last few strings looked up, so that a
// value repeated in nearby rows costs a string comparison or two rather
// than a hash and a map probe. Nearby rows repeat values a lot: spans of
// one trace, or of one service, are adjacent.
type strMRU struct {
	s    [4]string
	id   [4]uint32
	n    uint8 // entries in use
	next uint8
}

func (m *strMRU) get(s string) (uint32, bool) {
	for i := range m.s[:m.n] {
		if len(m.s[i]) == len(s) && m.s[i] == s {
			return m.id[i], true
		}
	}
	return 0, false
}

func (m *strMRU) put(s string, id uint32) {
	m.s[m.next], m.id[m.next] = s, id
	m.next = (m.next + 1) % uint8(len(m.s))
	m.n = max(m.n, m.next)
	if m.next == 0 {
		m.n = uint8(len(m.s))
	}
}

// strTableDec is a decoded strTable plus the reference-resolution state.
type strTableDec struct {
	data []byte
	offs []uint32 // len n+1
	next int      // number of new-string references resolved so far
	// shared, when set, holds data as one string so that materialised
	// values are substrings instead of separate allocations.
	shared string
}

// init parses the table streams; it bounds every length by the data.
func (t *strTableDec) init(lens, data []byte) error {
	r := newReader(lens)
	t.offs = t.offs[:0]
	t.offs = append(t.offs, 0)
	var off uint64
	for r.remaining() > 0 {
		off += r.uvarint()
		if r.err != nil || off > uint64(len(data)) {
			return errMalformed
		}
		t.offs = append(t.offs, uint32(off))
	}
	if off != uint64(len(data)) {
		return errMalformed
	}
	t.data = data
	t.next = 0
	t.shared = ""
	return nil
}

// len returns the number of strings in the table.
func (t *strTableDec) len() int { return len(t.offs) - 1 }

// share makes later str calls return substrings of one allocation.
func (t *strTableDec) share() { t.shared = string(t.data) }

// resolve turns a reference into a string id, or -1 when it is invalid.
func (t *strTableDec) resolve(ref uint64) int {
	if ref == 0 {
		if t.next >= t.len() {
			return -1
		}
		t.next++
		return t.next - 1
	}
	if ref > uint64(t.next) {
		return -1
	}
	return int(ref - 1)
}

// bytes returns string id's bytes; an invalid id (only possible after the
// reader already failed) yields nil.
func (t *strTableDec) bytes(id int) []byte {
	if uint(id) >= uint(t.len()) {
		return nil
	}
	return t.data[t.offs[id]:t.offs[id+1]]
}

// str returns string id; an invalid id yields "".
func (t *strTableDec) str(id int) string {
	if uint(id) >= uint(t.len()) {
		return ""
	}
	if t.shared != "" || len(t.data) == 0 {
		return t.shared[t.offs[id]:t.offs[id+1]]
	}
	return string(t.data[t.offs[id]:t.offs[id+1]])
}

// readRef reads a reference from r and resolves it.
func (t *strTableDec) readRef(r *reader) int {
	id := t.resolve(r.uvarint())
	if id < 0 {
		r.fail()
	}
	return id
}

// skipRefs skips n references, keeping count of the new strings among
// them (the zero references) so that later references resolve. It does
// not validate the references it skips: they are never used.
func (t *strTableDec) skipRefs(r *reader, n int) {
	b, i := r.b, r.i
	for ; n > 0; n-- {
		if i >= len(b) {
			r.fail()
			return
		}
		if b[i] == 0 {
			t.next++
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] >= 0x80 {
			j++
		}
		if j >= len(b) || j-i >= 10 {
			r.fail()
			return
		}
		i = j + 1
	}
	r.i = i
	if t.next > t.len() {
		r.fail()
	}
}

// find returns the id of s in the table, or -1.
func (t *strTableDec) find(s []byte) int {
	for id := range t.len() {
		if bytes.Equal(t.data[t.offs[id]:t.offs[id+1]], s) {
			return id
		}
	}
	return -1
}
