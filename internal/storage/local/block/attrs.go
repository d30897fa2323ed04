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
//	shapeIDs  uvarint per list: its shape
//	shapes    uvarint(n) n*(uvarint(len) len*uvarint(value block))
//	          a shape is the sequence of keys of a list, as value-block
//	          indexes; lists of one instrumentation share a few shapes
//	keydir    uvarint(n) n*uvarint(key symbol): the key of each value
//	          block, in part order (after the column's first part)
//
// Each value block is one part of the column section, holding the values
// of one key in list order:
//
//	mode    flags:u8 uvarint(values)
//	        flagDense: the key is in every list exactly once, so value i
//	        belongs to list i and rows is empty
//	        flagOneType: every value has the same type, stored once
//	rows    uvarint per value: list index minus the previous value's (the
//	        first is absolute; a list holding the key twice repeats its row)
//	types   u8 per value (or one byte): model.ValueType
//	refs    uvarint per string or bytes value: reference into the block's
//	        string table (strtab.go)
//	ints    zigzag uvarint per int or bool value
//	dbls    u64le per double value
//	nested  per array or map value: uvarint(len) + inline value (value.go)
//	tlens   string table lengths
//	tdata   string table bytes
const (
	attrStructStreams = 3
	keyBlockStreams   = 9
)

// Value-block mode flags.
const (
	flagDense   = 1 << 0
	flagOneType = 1 << 1
)

// keyBlockEnc collects the values of one key.
type keyBlockEnc struct {
	rows, types, refs, ints, dbls, nested []byte
	tab                                   strTable
	n                                     int // values
	lastRow                               int
	dense, oneType                        bool
	scratch                               []byte
}

func (k *keyBlockEnc) reset() {
	k.rows, k.types, k.refs, k.ints = k.rows[:0], k.types[:0], k.refs[:0], k.ints[:0]
	k.dbls, k.nested = k.dbls[:0], k.nested[:0]
	k.tab.reset()
	k.n, k.lastRow, k.dense, k.oneType = 0, 0, true, true
}

func (k *keyBlockEnc) add(row int, v *model.Value) {
	k.dense = k.dense && row == k.n
	k.rows = appendUvarint(k.rows, uint64(row-k.lastRow))
	k.lastRow = row
	k.oneType = k.oneType && (k.n == 0 || k.types[0] == byte(v.Type))
	k.types = append(k.types, byte(v.Type))
	k.n++
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

// payload renders the block; lists is the group's number of lists.
func (k *keyBlockEnc) payload(dst []byte, lists int) []byte {
	var mode []byte
	flags := byte(0)
	rows, types := k.rows, k.types
	if k.dense && k.n == lists {
		flags |= flagDense
		rows = nil
	}
	if k.oneType {
		flags |= flagOneType
		types = types[:1]
	}
	mode = append(mode, flags)
	mode = appendUvarint(mode, uint64(k.n))
	return appendStreams(dst, mode, rows, types, k.refs, k.ints, k.dbls, k.nested, k.tab.lens, k.tab.data)
}

// attrEnc builds an attribute group.
type attrEnc struct {
	shapeIDs   []byte
	shapeTable []byte
	shapes     map[string]uint32
	lists      int
	blocks     []*keyBlockEnc
	blockOf    []int32  // key symbol -> block index+1 (0: none yet)
	order      []uint32 // key symbol of each block
	free       []*keyBlockEnc
	shape      []byte
	// The previous list's keys and their symbols: instrumentation sends
	// the same keys (usually the same strings) span after span, so most
	// keys resolve without a map lookup.
	lastKeys []string
	lastSyms []uint32
}

func (e *attrEnc) reset() {
	e.shapeIDs, e.shapeTable, e.lists = e.shapeIDs[:0], e.shapeTable[:0], 0
	if e.shapes == nil {
		e.shapes = map[string]uint32{}
	}
	clear(e.shapes)
	for _, k := range e.order {
		e.blockOf[k] = 0
	}
	for _, b := range e.blocks {
		b.reset()
		e.free = append(e.free, b)
	}
	e.blocks, e.order = e.blocks[:0], e.order[:0]
}

// add appends one list. sym maps a key to its block symbol id; keyset
// collects the key ids seen.
func (e *attrEnc) add(kvs []model.KeyValue, sym func(string) uint32, keyset map[uint32]struct{}) {
	row := e.lists
	e.lists++
	e.shape = appendUvarint(e.shape[:0], uint64(len(kvs)))
	for i := range kvs {
		var id uint32
		if i < len(e.lastKeys) && kvs[i].Key == e.lastKeys[i] {
			id = e.lastSyms[i]
		} else {
			id = sym(kvs[i].Key)
			if i < len(e.lastKeys) {
				e.lastKeys[i], e.lastSyms[i] = kvs[i].Key, id
			} else {
				e.lastKeys, e.lastSyms = append(e.lastKeys, kvs[i].Key), append(e.lastSyms, id)
			}
		}
		if int(id) >= len(e.blockOf) {
			e.blockOf = append(e.blockOf, make([]int32, int(id)+1-len(e.blockOf))...)
		}
		bi := int(e.blockOf[id]) - 1
		if bi < 0 {
			var b *keyBlockEnc
			if n := len(e.free); n > 0 {
				b, e.free = e.free[n-1], e.free[:n-1]
			} else {
				b = &keyBlockEnc{}
				b.reset()
			}
			bi = len(e.blocks)
			e.blocks = append(e.blocks, b)
			e.order = append(e.order, id)
			e.blockOf[id] = int32(bi + 1)
			keyset[id] = struct{}{}
		}
		e.shape = appendUvarint(e.shape, uint64(bi))
		e.blocks[bi].add(row, &kvs[i].Value)
	}
	id, ok := e.shapes[string(e.shape)]
	if !ok {
		id = uint32(len(e.shapes))
		e.shapes[string(e.shape)] = id
		e.shapeTable = append(e.shapeTable, e.shape...)
	}
	e.shapeIDs = appendUvarint(e.shapeIDs, uint64(id))
}

// structure returns the structure streams.
func (e *attrEnc) structure() [attrStructStreams][]byte {
	shapes := appendUvarint(nil, uint64(len(e.shapes)))
	shapes = append(shapes, e.shapeTable...)
	dir := appendUvarint(nil, uint64(len(e.order)))
	for _, k := range e.order {
		dir = appendUvarint(dir, uint64(k))
	}
	return [attrStructStreams][]byte{e.shapeIDs, shapes, dir}
}

// appendParts appends the value blocks' payloads, in keydir order.
func (e *attrEnc) appendParts(parts [][]byte) [][]byte {
	for _, b := range e.blocks {
		parts = append(parts, b.payload(nil, e.lists))
	}
	return parts
}

// keyBlock reads the values of one key sequentially.
type keyBlock struct {
	rows, refs, ints, dbls, nested reader
	types                          []byte // one per value, or one for all
	tab                            strTableDec
	n, vi                          int // values, and index of the next one
	row                            int // row of the value read last
	dense                          bool
}

// init parses a value block of a group of lists lists.
func (k *keyBlock) init(payload []byte, lists int) error {
	var s [keyBlockStreams][]byte
	if err := splitStreams(payload, s[:]); err != nil {
		return err
	}
	mode := newReader(s[0])
	flags := mode.byte()
	n := mode.uvarint()
	if !mode.done() || flags&^(flagDense|flagOneType) != 0 || n == 0 || n > uint64(len(payload)) {
		return errMalformed
	}
	k.n, k.vi, k.row = int(n), 0, 0
	k.dense = flags&flagDense != 0
	if k.dense && (k.n != lists || len(s[1]) != 0) {
		return errMalformed
	}
	k.types = s[2]
	if want := k.n; flags&flagOneType != 0 && len(k.types) != 1 || flags&flagOneType == 0 && len(k.types) != want {
		return errMalformed
	}
	k.rows, k.refs, k.ints = newReader(s[1]), newReader(s[3]), newReader(s[4])
	k.dbls, k.nested = newReader(s[5]), newReader(s[6])
	return k.tab.init(s[7], s[8])
}

// typeAt returns the type of value i.
func (k *keyBlock) typeAt(i int) model.ValueType {
	if len(k.types) == 1 {
		return model.ValueType(k.types[0])
	}
	return model.ValueType(k.types[i])
}

// oneType reports whether every value of the block has type t.
func (k *keyBlock) oneType(t model.ValueType) bool {
	return len(k.types) == 1 && model.ValueType(k.types[0]) == t
}

// more reports whether values remain.
func (k *keyBlock) more() bool { return k.vi < k.n }

// next reads the row and type of the next value (more must be true).
func (k *keyBlock) next() (int, model.ValueType) {
	if k.dense {
		k.row = k.vi
	} else {
		k.row += int(k.rows.u32v())
	}
	t := k.typeAt(k.vi)
	k.vi++
	return k.row, t
}

// peekRow returns the row of the next value without consuming it (more
// must be true).
func (k *keyBlock) peekRow() int {
	if k.dense {
		return k.vi
	}
	i := k.rows.i
	r := k.row + int(k.rows.u32v())
	k.rows.i = i
	return r
}

// seek skips every value whose row is below target, in bulk: it finds how
// many values to skip, counts their types, and advances each value stream
// by its count.
func (k *keyBlock) seek(target int) {
	j := k.vi
	if k.dense && target <= j {
		return // the common case: already there
	}
	if k.dense {
		j = min(max(target, j), k.n)
	} else {
		row := k.row
		for j < k.n {
			i := k.rows.i
			r := row + int(k.rows.u32v())
			if r >= target || k.rows.err != nil {
				k.rows.i = i // unread: next reads it
				break
			}
			row = r
			j++
		}
		k.row = row
	}
	if j > k.vi {
		k.skipValues(j - k.vi)
	}
}

// skipValues skips the next n values (their rows already read).
func (k *keyBlock) skipValues(n int) {
	var counts [model.TypeMap + 1]int
	if len(k.types) == 1 {
		if t := model.ValueType(k.types[0]); t <= model.TypeMap {
			counts[t] = n
		}
	} else {
		for _, t := range k.types[k.vi : k.vi+n] {
			if t <= byte(model.TypeMap) {
				counts[t]++
			}
		}
	}
	k.vi += n
	k.tab.skipRefs(&k.refs, counts[model.TypeString]+counts[model.TypeBytes])
	k.ints.skipUvarints(counts[model.TypeInt] + counts[model.TypeBool])
	k.dbls.skip(8 * counts[model.TypeDouble])
	for range counts[model.TypeArray] + counts[model.TypeMap] {
		k.nested.skip(k.nested.count(1))
	}
}

func (k *keyBlock) err() error {
	for _, r := range [...]*reader{&k.rows, &k.refs, &k.ints, &k.dbls, &k.nested} {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

func (k *keyBlock) done() bool {
	if k.vi != k.n {
		return false
	}
	for _, r := range [...]*reader{&k.rows, &k.refs, &k.ints, &k.dbls, &k.nested} {
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
		k.rows.fail()
	}
}

// value reads a value of type t.
func (k *keyBlock) value(t model.ValueType) model.Value {
	var v model.Value
	k.valueInto(t, &v)
	return v
}

// valueInto reads a value of type t into v, which must be zero. Setting
// only the fields the type uses avoids copying the whole (large) Value.
func (k *keyBlock) valueInto(t model.ValueType, v *model.Value) {
	v.Type = t
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
		*v = readValue(&r, 0)
		if !r.done() || v.Type != t {
			k.nested.fail()
			*v = model.Value{}
		}
	default:
		k.rows.fail()
	}
}

// attrDec reads an attribute group. Value blocks are decompressed on first
// use through load.
type attrDec struct {
	shapeIDs reader
	shapes   [][]int32 // value-block index of each key of each shape
	cur      []int32   // shape of the list being read
	lists    int       // lists in the group
	syms     []string
	keyIDs   []uint32 // keydir
	blocks   []*keyBlock
	load     func(i int) ([]byte, error) // payload of value block i
	share    bool                        // materialise strings as substrings of one allocation
	row      int                         // lists read so far
	failed   error
}

// init parses the structure streams of a group of lists lists; nblocks is
// the number of value-block parts available.
func (d *attrDec) init(s [][]byte, lists int, syms []string, nblocks int, load func(int) ([]byte, error)) error {
	d.shapeIDs = newReader(s[0])
	d.syms, d.load, d.lists, d.row, d.failed, d.cur = syms, load, lists, 0, nil, nil
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
	r = newReader(s[1])
	d.shapes = make([][]int32, r.count(1))
	for i := range d.shapes {
		sh := make([]int32, r.count(1))
		for j := range sh {
			sh[j] = int32(r.index(n))
		}
		d.shapes[i] = sh
	}
	if !r.done() {
		return errMalformed
	}
	d.blocks = make([]*keyBlock, n)
	return nil
}

// blockIndex returns the value-block index of key, or -1.
func (d *attrDec) blockIndex(key uint32) int { return slices.Index(d.keyIDs, key) }

// block returns value block i, decoding it on first use.
func (d *attrDec) block(i int) *keyBlock {
	if b := d.blocks[i]; b != nil {
		return b
	}
	b := &keyBlock{}
	p, err := d.load(i)
	if err == nil {
		err = b.init(p, d.lists)
	}
	if err != nil {
		if d.failed == nil {
			d.failed = err
		}
		b = &keyBlock{} // empty: every read fails
		b.rows.fail()
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
	if d.shapeIDs.err != nil {
		return d.shapeIDs.err
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
	if !d.shapeIDs.done() || d.row != d.lists {
		return false
	}
	for i := range d.blocks {
		if !d.block(i).done() {
			return false
		}
	}
	return true
}

// count reads the next list's shape and returns its length.
func (d *attrDec) count() int {
	if d.row >= d.lists || len(d.shapes) == 0 {
		d.shapeIDs.fail()
		d.cur = nil
		return 0
	}
	d.cur = d.shapes[d.shapeIDs.index(len(d.shapes))]
	if d.shapeIDs.err != nil {
		d.cur = nil
	}
	return len(d.cur)
}

// remainingKVs returns the number of key-values in the lists not yet read.
func (d *attrDec) remainingKVs() int {
	r := d.shapeIDs
	n := 0
	for r.remaining() > 0 && len(d.shapes) > 0 {
		n += len(d.shapes[r.index(len(d.shapes))])
	}
	return n
}

// skipLists skips n lists: it advances the structure only; value blocks
// catch up (seek) when next used.
func (d *attrDec) skipLists(n int) {
	d.shapeIDs.skipUvarints(n)
	d.row += n
}

// readList decodes the list whose shape count just read into dst, which
// the caller sized with count.
func (d *attrDec) readList(dst []model.KeyValue) {
	row := d.row
	d.row++
	for i, bi := range d.cur[:len(dst)] {
		b := d.block(int(bi))
		dst[i].Key = d.syms[d.keyIDs[bi]]
		b.seek(row)
		if !b.more() {
			b.rows.fail()
			return
		}
		r, t := b.next()
		if r != row {
			b.rows.fail()
			return
		}
		b.valueInto(t, &dst[i].Value)
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
	for _, r := range [...]*reader{&kb.rows, &kb.refs, &kb.ints, &kb.dbls, &kb.nested} {
		r.i, r.err = 0, nil
	}
	kb.tab.next, kb.row, kb.vi = 0, 0, 0
	return kb, true, nil
}
