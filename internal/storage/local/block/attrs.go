package block

import (
	"math"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// An attribute group stores many attribute lists (one per span, event or
// link) column by column: the structure once, and the values of each key
// in a block of their own, so that a condition on one key reads (and
// decompresses) only that key's values.
//
// The structure lives in the enclosing column's first part:
//
//	counts  uvarint per list: number of key-values
//	keys    uvarint per key-value: block symbol id of the key, in list order
//	keydir  uvarint(n) n*uvarint(key symbol): the key of each value block,
//	        in part order (the column's parts 1..n, or after its own parts)
//
// Each value block is one part of the column section, holding the values
// of one key in list order:
//
//	rows    uvarint per value: list index minus the previous value's (the
//	        first is absolute); a list holding the key twice repeats its row
//	types   u8 per value: model.ValueType
//	refs    uvarint per string or bytes value: reference into the block's
//	        string table (strtab.go)
//	ints    zigzag uvarint per int or bool value
//	dbls    u64le per double value
//	nested  per array or map value: uvarint(len) + inline value (value.go)
//	tlens   string table lengths
//	tdata   string table bytes
const (
	attrStructStreams = 3
	keyBlockStreams   = 8
)

// keyBlockEnc collects the values of one key.
type keyBlockEnc struct {
	rows, types, refs, ints, dbls, nested []byte
	tab                                   strTable
	lastRow                               int
	scratch                               []byte
}

func (k *keyBlockEnc) reset() {
	k.rows, k.types, k.refs, k.ints = k.rows[:0], k.types[:0], k.refs[:0], k.ints[:0]
	k.dbls, k.nested = k.dbls[:0], k.nested[:0]
	k.tab.reset()
	k.lastRow = 0
}

func (k *keyBlockEnc) add(row int, v *model.Value) {
	k.rows = appendUvarint(k.rows, uint64(row-k.lastRow))
	k.lastRow = row
	k.types = append(k.types, byte(v.Type))
	switch v.Type {
	case model.TypeString, model.TypeBytes:
		k.refs = k.tab.ref(k.refs, v.Str)
	case model.TypeBool, model.TypeInt:
		k.ints = appendUvarint(k.ints, zigzag(v.Int))
	case model.TypeDouble:
		k.dbls = appendU64(k.dbls, math.Float64bits(v.Double))
	case model.TypeArray, model.TypeMap:
		k.scratch = appendValue(k.scratch[:0], v)
		k.nested = appendUvarint(k.nested, uint64(len(k.scratch)))
		k.nested = append(k.nested, k.scratch...)
	}
}

func (k *keyBlockEnc) payload(dst []byte) []byte {
	return appendStreams(dst, k.rows, k.types, k.refs, k.ints, k.dbls, k.nested, k.tab.lens, k.tab.data)
}

// attrEnc builds an attribute group.
type attrEnc struct {
	counts, keys []byte
	lists        int
	blocks       map[uint32]*keyBlockEnc
	order        []uint32 // keys in first-seen order
	free         []*keyBlockEnc
}

func (e *attrEnc) reset() {
	e.counts, e.keys, e.lists = e.counts[:0], e.keys[:0], 0
	if e.blocks == nil {
		e.blocks = map[uint32]*keyBlockEnc{}
	}
	for _, k := range e.order {
		b := e.blocks[k]
		b.reset()
		e.free = append(e.free, b)
	}
	clear(e.blocks)
	e.order = e.order[:0]
}

// add appends one list. sym maps a key to its block symbol id; keyset
// collects the key ids seen.
func (e *attrEnc) add(kvs []model.KeyValue, sym func(string) uint32, keyset map[uint32]struct{}) {
	e.counts = appendUvarint(e.counts, uint64(len(kvs)))
	row := e.lists
	e.lists++
	for i := range kvs {
		id := sym(kvs[i].Key)
		e.keys = appendUvarint(e.keys, uint64(id))
		b := e.blocks[id]
		if b == nil {
			if n := len(e.free); n > 0 {
				b, e.free = e.free[n-1], e.free[:n-1]
			} else {
				b = &keyBlockEnc{}
				b.tab.reset()
			}
			e.blocks[id] = b
			e.order = append(e.order, id)
			keyset[id] = struct{}{}
		}
		b.add(row, &kvs[i].Value)
	}
}

// structure returns the structure streams.
func (e *attrEnc) structure() [attrStructStreams][]byte {
	var dir []byte
	dir = appendUvarint(dir, uint64(len(e.order)))
	for _, k := range e.order {
		dir = appendUvarint(dir, uint64(k))
	}
	return [attrStructStreams][]byte{e.counts, e.keys, dir}
}

// appendParts appends the value blocks' payloads, in keydir order.
func (e *attrEnc) appendParts(parts [][]byte) [][]byte {
	for _, k := range e.order {
		parts = append(parts, e.blocks[k].payload(nil))
	}
	return parts
}

// keyBlock reads the values of one key sequentially.
type keyBlock struct {
	rows, types, refs, ints, dbls, nested reader
	tab                                   strTableDec
	row                                   int // row of the value read last
}

func (k *keyBlock) init(payload []byte) error {
	var s [keyBlockStreams][]byte
	if err := splitStreams(payload, s[:]); err != nil {
		return err
	}
	k.rows, k.types, k.refs, k.ints = newReader(s[0]), newReader(s[1]), newReader(s[2]), newReader(s[3])
	k.dbls, k.nested = newReader(s[4]), newReader(s[5])
	k.row = 0
	return k.tab.init(s[6], s[7])
}

// next reads the row and type of the next value.
func (k *keyBlock) next() (int, model.ValueType) {
	k.row += int(k.rows.u32v())
	return k.row, model.ValueType(k.types.byte())
}

// seek skips every value whose row is below target, in bulk: it finds how
// many values to skip from the rows stream, counts their types, and
// advances each value stream by its count.
func (k *keyBlock) seek(target int) {
	n := 0
	row := k.row
	for k.rows.remaining() > 0 {
		i := k.rows.i
		r := row + int(k.rows.u32v())
		if r >= target {
			k.rows.i = i // unread: next reads it
			break
		}
		row = r
		n++
	}
	k.row = row
	k.skipValues(n)
}

// skipValues skips the next n values (their rows already read).
func (k *keyBlock) skipValues(n int) {
	ts := k.types.bytes(n)
	var strs, ints, dbls, nested int
	for _, t := range ts {
		switch model.ValueType(t) {
		case model.TypeEmpty:
		case model.TypeString, model.TypeBytes:
			strs++
		case model.TypeBool, model.TypeInt:
			ints++
		case model.TypeDouble:
			dbls++
		case model.TypeArray, model.TypeMap:
			nested++
		default:
			k.types.fail()
		}
	}
	for range strs {
		k.tab.readRef(&k.refs)
	}
	k.ints.skipUvarints(ints)
	k.dbls.skip(8 * dbls)
	for range nested {
		k.nested.skip(k.nested.count(1))
	}
}

// more reports whether values remain.
func (k *keyBlock) more() bool { return k.types.remaining() > 0 && k.types.err == nil }

func (k *keyBlock) err() error {
	for _, r := range [...]*reader{&k.rows, &k.types, &k.refs, &k.ints, &k.dbls, &k.nested} {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

func (k *keyBlock) done() bool {
	for _, r := range [...]*reader{&k.rows, &k.types, &k.refs, &k.ints, &k.dbls, &k.nested} {
		if !r.done() {
			return false
		}
	}
	return true
}

// skipValue skips a value of type t.
func (k *keyBlock) skipValue(t model.ValueType) {
	switch t {
	case model.TypeEmpty:
	case model.TypeString, model.TypeBytes:
		k.tab.readRef(&k.refs)
	case model.TypeBool, model.TypeInt:
		k.ints.skipUvarints(1)
	case model.TypeDouble:
		k.dbls.skip(8)
	case model.TypeArray, model.TypeMap:
		k.nested.skip(k.nested.count(1))
	default:
		k.types.fail()
	}
}

// value reads a value of type t.
func (k *keyBlock) value(t model.ValueType) model.Value {
	v := model.Value{Type: t}
	switch t {
	case model.TypeEmpty:
	case model.TypeString, model.TypeBytes:
		v.Str = k.tab.str(k.tab.readRef(&k.refs))
	case model.TypeBool, model.TypeInt:
		v.Int = k.ints.varint()
	case model.TypeDouble:
		v.Double = math.Float64frombits(k.dbls.u64())
	case model.TypeArray, model.TypeMap:
		r := newReader(k.nested.lenBytes())
		v = readValue(&r, 0)
		if !r.done() || v.Type != t {
			k.nested.fail()
			return model.Value{}
		}
	default:
		k.types.fail()
	}
	return v
}

// attrDec reads an attribute group. Value blocks are decompressed on first
// use through load.
type attrDec struct {
	counts, keys reader
	syms         []string
	keyIDs       []uint32 // keydir
	blocks       []*keyBlock
	load         func(i int) ([]byte, error) // payload of value block i
	share        bool                        // materialise strings as substrings of one allocation
	lists        int                         // lists read so far
	failed       error
	keyIndex     map[uint32]int // keydir position of each key, when there are many
}

// init parses the structure streams; nblocks is the number of value-block
// parts available.
func (d *attrDec) init(s [][]byte, syms []string, nblocks int, load func(int) ([]byte, error)) error {
	d.counts, d.keys = newReader(s[0]), newReader(s[1])
	d.syms, d.load, d.lists, d.failed = syms, load, 0, nil
	r := newReader(s[2])
	n := r.count(1)
	if n != nblocks {
		return errMalformed
	}
	d.keyIDs = make([]uint32, n)
	for i := range d.keyIDs {
		d.keyIDs[i] = uint32(r.index(len(syms)))
	}
	if !r.done() {
		return errMalformed
	}
	d.blocks = make([]*keyBlock, n)
	d.keyIndex = nil
	if n > 8 {
		d.keyIndex = make(map[uint32]int, n)
		for i, k := range d.keyIDs {
			d.keyIndex[k] = i
		}
	}
	return nil
}

// blockIndex returns the value-block index of key, or -1.
func (d *attrDec) blockIndex(key uint32) int {
	if d.keyIndex != nil {
		if i, ok := d.keyIndex[key]; ok {
			return i
		}
		return -1
	}
	return slices.Index(d.keyIDs, key)
}

// block returns value block i, decoding it on first use.
func (d *attrDec) block(i int) *keyBlock {
	if b := d.blocks[i]; b != nil {
		return b
	}
	b := &keyBlock{}
	p, err := d.load(i)
	if err == nil {
		err = b.init(p)
	}
	if err != nil {
		if d.failed == nil {
			d.failed = err
		}
		b = &keyBlock{} // empty: every read fails
		b.types.fail()
	}
	if d.share {
		b.tab.share()
	}
	d.blocks[i] = b
	return b
}

// err returns the first error of the structure or of a used value block.
func (d *attrDec) err() error {
	if d.failed != nil {
		return d.failed
	}
	for _, r := range [...]*reader{&d.counts, &d.keys} {
		if r.err != nil {
			return r.err
		}
	}
	for _, b := range d.blocks {
		if b != nil {
			if err := b.err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// done reports whether the structure and every value block were consumed
// exactly (after a full decode).
func (d *attrDec) done() bool {
	if !d.counts.done() || !d.keys.done() {
		return false
	}
	for i := range d.blocks {
		if !d.block(i).done() {
			return false
		}
	}
	return true
}

// count reads the next list's length, bounded by the keys left.
func (d *attrDec) count() int {
	n := d.counts.uvarint()
	if n > uint64(d.keys.remaining()) {
		d.counts.fail()
		return 0
	}
	return int(n)
}

// keyBlockOf reads the next key and returns its symbol and value block.
func (d *attrDec) keyBlockOf() (int, *keyBlock) {
	k := d.keys.index(len(d.syms))
	i := d.blockIndex(uint32(k))
	if i < 0 {
		d.keys.fail()
		i = 0
		if len(d.blocks) == 0 {
			return 0, &keyBlock{}
		}
	}
	return k, d.block(i)
}

// skipLists skips n lists: it advances the structure only; value blocks
// catch up (seek) when next used.
func (d *attrDec) skipLists(n int) {
	var kvs uint64
	for range n {
		kvs += d.counts.uvarint()
	}
	if kvs > uint64(d.keys.remaining()) {
		d.counts.fail()
		return
	}
	d.keys.skipUvarints(int(kvs))
	d.lists += n
}

// readList decodes the next list into dst, which the caller sized with
// count (already read).
func (d *attrDec) readList(dst []model.KeyValue) {
	row := d.lists
	d.lists++
	for i := range dst {
		k, b := d.keyBlockOf()
		dst[i].Key = d.syms[k]
		b.seek(row)
		r, t := b.next()
		if r != row {
			b.rows.fail()
			return
		}
		dst[i].Value = b.value(t)
	}
}

// fresh returns an unread copy of key's value block, so that several
// readers (conditions) can each scan it; ok is false when the group has no
// such key.
func (d *attrDec) fresh(key uint64) (kb keyBlock, ok bool, err error) {
	if key > math.MaxUint32 {
		return keyBlock{}, false, nil
	}
	i := d.blockIndex(uint32(key))
	if i < 0 {
		return keyBlock{}, false, nil
	}
	b := d.block(i)
	if d.failed != nil {
		return keyBlock{}, false, d.failed
	}
	kb = *b
	for _, r := range [...]*reader{&kb.rows, &kb.types, &kb.refs, &kb.ints, &kb.dbls, &kb.nested} {
		r.i, r.err = 0, nil
	}
	kb.tab.next, kb.row = 0, 0
	return kb, true, nil
}
