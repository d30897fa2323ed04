package block

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/clew-tracing/clew/internal/model"
)

// Block is an open, immutable block. It keeps the data file open and the
// dictionaries and row-group table in memory; column sections are read and
// verified on demand. A Block is safe for concurrent use; Close must not be
// called while other calls are in flight.
type Block struct {
	dir    string
	meta   Meta
	f      *os.File
	dec    *zstd.Decoder
	dict   *blockDict
	rgs    []rowGroup
	splits []splitTrace
	// bloom filters trace IDs; nil for a block written without one.
	bloom *bloom
	// order lists the row groups by their best possible search hit
	// (rankOrder); best is the best possible hit of the whole block.
	order []int
	best  Hit
}

// Open opens the block in dir, reading meta.json, the dict and the index and
// verifying their checksums. Any mismatch or undecodable byte is returned as
// a *CorruptionError; a block of another format version as
// ErrUnsupportedVersion.
func Open(dir string) (*Block, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	b := &Block{dir: dir, meta: meta}
	corrupt := func(file string, err error) error {
		return &CorruptionError{Dir: dir, File: file, Err: err}
	}
	var sizes [3]int64
	var contents [2][]byte
	for i, name := range [...]string{DictFile, IndexFile, DataFile} {
		fm, ok := meta.file(name)
		if !ok {
			return nil, corrupt(MetaFile, fmt.Errorf("%w: no entry for %s", errMalformed, name))
		}
		if i < 2 {
			c, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, corrupt(name, err)
			}
			if int64(len(c)) != fm.Bytes || crc32c(c) != fm.CRC32C {
				return nil, corrupt(name, errChecksum)
			}
			contents[i] = c
		}
		sizes[i] = fm.Bytes
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxSectionRaw), zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		return nil, fmt.Errorf("block %s: zstd: %w", dir, err)
	}
	b.dec = dec
	fail := func(err error) (*Block, error) {
		b.dec.Close()
		if b.f != nil {
			err = errors.Join(err, b.f.Close())
		}
		return nil, err
	}
	b.dict, err = b.loadDict(contents[0])
	if err != nil {
		return fail(corrupt(DictFile, err))
	}
	b.rgs, b.splits, err = parseIndex(contents[1], len(b.dict.syms), sizes[2])
	if err != nil {
		return fail(corrupt(IndexFile, err))
	}
	if err := b.checkMeta(); err != nil {
		return fail(corrupt(MetaFile, err))
	}
	b.order = rankOrder(b.rgs)
	b.best = Hit{TraceID: b.rgs[0].firstTrace, StartUnixNano: b.rgs[b.order[0]].maxTraceStart}
	if fm, ok := meta.file(BloomFile); ok {
		c, err := os.ReadFile(filepath.Join(dir, BloomFile))
		if err != nil {
			return fail(corrupt(BloomFile, err))
		}
		if int64(len(c)) != fm.Bytes || crc32c(c) != fm.CRC32C {
			return fail(corrupt(BloomFile, errChecksum))
		}
		if b.bloom, err = parseBloom(c); err != nil {
			return fail(corrupt(BloomFile, err))
		}
	}
	b.f, err = os.Open(filepath.Join(dir, DataFile))
	if err != nil {
		return fail(corrupt(DataFile, err))
	}
	st, err := b.f.Stat()
	if err != nil {
		return fail(fmt.Errorf("block %s: %w", dir, err))
	}
	var hdr [headerLen]byte
	if _, err := b.f.ReadAt(hdr[:], 0); err != nil || st.Size() != sizes[2] || string(hdr[:4]) != magicData || hdr[4] != FormatVersion {
		return fail(corrupt(DataFile, fmt.Errorf("%w: bad header or size", errMalformed)))
	}
	return b, nil
}

// loadDict verifies and decodes the dict file:
// magic "CLWD" | version u8 | codec u8 | uvarint(raw) | payload | crc32c u32.
func (b *Block) loadDict(c []byte) (*blockDict, error) {
	if len(c) < headerLen+crcLen || string(c[:4]) != magicDict || c[4] != FormatVersion {
		return nil, errMalformed
	}
	body := c[:len(c)-crcLen]
	tr := newReaderAt(c, len(body))
	if crc32c(body) != tr.u32() {
		return nil, errChecksum
	}
	r := newReader(body[headerLen:])
	codec := r.byte()
	raw := r.uvarint()
	if r.err != nil || raw > maxSectionRaw {
		return nil, errMalformed
	}
	payload, err := b.decompress(codec, r.bytes(r.remaining()), uint32(raw))
	if err != nil {
		return nil, err
	}
	return parseDict(payload)
}

// checkMeta cross-checks meta.json against the index.
func (b *Block) checkMeta() error {
	m := &b.meta
	spans, traces := 0, 0
	for i := range b.rgs {
		g := &b.rgs[i]
		spans += g.spans
		traces += g.traces
		if g.flags&flagFirstContinued != 0 {
			traces--
		}
		if g.minStart < m.MinTime || g.maxEnd > m.MaxTime {
			return fmt.Errorf("%w: row group %d outside the block's time range", errMalformed, i)
		}
	}
	if spans != m.SpanCount || traces != m.TraceCount || len(b.rgs) != m.RowGroups {
		return fmt.Errorf("%w: counts do not match the index", errMalformed)
	}
	return nil
}

// ErrNoFile is returned by [Block.ReadFile] for a file the block's meta
// does not list.
var ErrNoFile = errors.New("block: no such file")

// ReadFile returns the contents of an extra file written with
// [WriteOptions.ExtraFiles], checked against its size and CRC-32C in
// meta.json: ErrNoFile when the block has no such file, a
// [CorruptionError] when it does not match. The bytes are the caller's.
func (b *Block) ReadFile(name string) ([]byte, error) {
	switch name {
	case DataFile, DictFile, IndexFile, BloomFile, MetaFile:
		return nil, fmt.Errorf("block: %s is not an extra file", name)
	}
	fm, ok := b.meta.file(name)
	if !ok {
		return nil, ErrNoFile
	}
	c, err := os.ReadFile(filepath.Join(b.dir, name))
	if err != nil {
		return nil, &CorruptionError{Dir: b.dir, File: name, Err: err}
	}
	if int64(len(c)) != fm.Bytes || crc32c(c) != fm.CRC32C {
		return nil, &CorruptionError{Dir: b.dir, File: name, Err: errChecksum}
	}
	return c, nil
}

// Meta returns the block's metadata.
func (b *Block) Meta() Meta { return b.meta }

// Dir returns the block's directory.
func (b *Block) Dir() string { return b.dir }

// Close releases the data file and decoder.
func (b *Block) Close() error {
	b.dec.Close()
	return b.f.Close()
}

// decompress turns a stored section into its payload, checking its size.
func (b *Block) decompress(codec byte, stored []byte, raw uint32) ([]byte, error) {
	switch codec {
	case codecRaw:
		if len(stored) != int(raw) {
			return nil, errMalformed
		}
		return stored, nil
	case codecZstd:
		// NB: the slack lets zstd use its fast copy loops (it needs room to
		// over-write); WithDecodeAllCapLimit still bounds the output.
		out, err := b.dec.DecodeAll(stored, make([]byte, 0, int(raw)+zstdSlack))
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderClosed) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		if len(out) != int(raw) {
			return nil, errMalformed
		}
		return out, nil
	}
	return nil, errMalformed
}

// load reads, verifies and decompresses the given columns of row group gi
// into d. Adjacent sections are read with one system call.
func (b *Block) load(ctx context.Context, d *rgReader, gi int, cols ...int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g := &b.rgs[gi]
	cols = slices.DeleteFunc(slices.Clone(cols), func(c int) bool { return d.sec[c] != nil })
	slices.Sort(cols)
	for i := 0; i < len(cols); {
		j := i + 1
		for j < len(cols) && cols[j] == cols[j-1]+1 {
			j++
		}
		first, last := &g.cols[cols[i]], &g.cols[cols[j-1]]
		buf := make([]byte, last.off+int64(last.size)-first.off)
		if _, err := b.f.ReadAt(buf, first.off); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return b.dataErr(gi, cols[i], err)
		}
		for _, c := range cols[i:j] {
			s := &g.cols[c]
			stored := buf[s.off-first.off : s.off-first.off+int64(s.size)]
			if crc32c(stored) != s.crc {
				return b.dataErr(gi, c, errChecksum)
			}
			parts, err := parseParts(stored)
			if err != nil {
				return b.dataErr(gi, c, err)
			}
			p, err := b.decompress(parts[0].codec, parts[0].data, parts[0].raw)
			if err != nil {
				return b.dataErr(gi, c, err)
			}
			if p == nil {
				p = []byte{}
			}
			d.sec[c], d.parts[c] = p, parts
		}
		i = j
	}
	return nil
}

// dataErr wraps an error reading column c of row group gi; decoding
// failures become a *CorruptionError.
func (b *Block) dataErr(gi, c int, err error) error {
	if errors.Is(err, errMalformed) || errors.Is(err, errChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &CorruptionError{Dir: b.dir, File: DataFile, Err: fmt.Errorf("row group %d column %s: %w", gi, columnNames[c], err)}
	}
	return fmt.Errorf("block %s: row group %d column %s: %w", b.dir, gi, columnNames[c], err)
}

// decodeErr wraps a column decoding error of row group gi.
func (b *Block) decodeErr(gi int, err error) error {
	return &CorruptionError{Dir: b.dir, File: DataFile, Err: fmt.Errorf("row group %d: %w", gi, err)}
}

// newRGReader returns a reader for row group gi whose value blocks are
// decompressed by the block's decoder.
func (b *Block) newRGReader(gi int) *rgReader {
	return &rgReader{dict: b.dict, g: &b.rgs[gi], decompress: b.decompress}
}

// allColumns lists every column id.
func allColumns() []int {
	cols := make([]int, numColumns)
	for i := range cols {
		cols[i] = i
	}
	return cols
}

// MayHold reports whether the block may hold spans of the trace: false is
// certain (the bloom file rules it out, or the ID lies outside the block's
// trace-ID range), true is not (about 1% of absent IDs pass the filter).
func (b *Block) MayHold(id model.TraceID) bool {
	if compareIDs(id, b.rgs[0].firstTrace) < 0 || compareIDs(id, b.rgs[len(b.rgs)-1].lastTrace) > 0 {
		return false
	}
	return b.bloom == nil || b.bloom.has(traceHash(id))
}

// Trace returns every span of the trace in this block, or (nil, nil) when
// the block has none. It asks the bloom filter first (see MayHold), then
// binary-searches the row groups by trace-ID range and the trace column of
// the candidate row group, then decodes only that trace's rows. The spans,
// and their Resource and Scope, are the caller's.
func (b *Block) Trace(ctx context.Context, id model.TraceID) ([]*model.Span, error) {
	if !b.MayHold(id) {
		return nil, nil
	}
	out, err := b.Traces(ctx, []model.TraceID{id})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Traces is Trace for several traces at once: out[i] holds the spans of
// ids[i] (nil when the block has none). A row group holding several of the
// traces is read and decompressed once. An ID given twice gets its spans at
// its first position only.
func (b *Block) Traces(ctx context.Context, ids []model.TraceID) ([][]*model.Span, error) {
	return b.traces(ctx, ids, false)
}

// TracesLight is Traces decoding only what service edges need (see
// [lightColumns]): span and parent IDs, start, end, kind, status and
// resource; names, attributes, events and links are left empty, and the
// spans' Resources are the block's own, to be read only.
func (b *Block) TracesLight(ctx context.Context, ids []model.TraceID) ([][]*model.Span, error) {
	return b.traces(ctx, ids, true)
}

// lightColumns are the columns TracesLight reads.
var lightColumns = []int{colTrace, colSpanID, colParent, colStart, colDuration, colKind, colStatus, colResource}

func (b *Block) traces(ctx context.Context, ids []model.TraceID, light bool) ([][]*model.Span, error) {
	out := make([][]*model.Span, len(ids))
	type want struct{ rg, k, trace int }
	var wants []want
	for k, id := range ids {
		if !b.MayHold(id) {
			continue
		}
		i, _ := slices.BinarySearchFunc(b.rgs, id, func(g rowGroup, id model.TraceID) int {
			return bytes.Compare(g.lastTrace[:], id[:])
		})
		// NB: a trace split across row groups is in each of them.
		for ; i < len(b.rgs) && bytes.Compare(b.rgs[i].firstTrace[:], id[:]) <= 0; i++ {
			wants = append(wants, want{rg: i, k: k})
		}
	}
	slices.SortStableFunc(wants, func(x, y want) int { return cmp.Compare(x.rg, y.rg) })
	for len(wants) > 0 {
		gi := wants[0].rg
		n := 1
		for n < len(wants) && wants[n].rg == gi {
			n++
		}
		group := wants[:n]
		wants = wants[n:]
		d := b.newRGReader(gi)
		if err := b.load(ctx, d, gi, colTrace); err != nil {
			return nil, err
		}
		if err := d.open(colTrace); err != nil {
			return nil, b.decodeErr(gi, err)
		}
		found := group[:0]
		for _, w := range group {
			if ti, ok := d.findTrace(ids[w.k]); ok {
				w.trace = ti
				found = append(found, w)
			}
		}
		if len(found) == 0 {
			continue
		}
		slices.SortStableFunc(found, func(x, y want) int { return cmp.Compare(x.trace, y.trace) })
		cols := allColumns()
		if light {
			cols = lightColumns
		}
		if err := b.load(ctx, d, gi, cols...); err != nil {
			return nil, err
		}
		for _, c := range cols {
			if err := d.open(c); err != nil {
				return nil, b.decodeErr(gi, err)
			}
		}
		for _, w := range found {
			if d.trace > w.trace {
				continue // the same ID asked for twice
			}
			for d.trace < w.trace {
				c, _, ok := d.nextTrace()
				if !ok {
					break
				}
				d.skipSpans(c)
			}
			c, start, ok := d.nextTrace()
			if ok && light {
				for _, s := range d.readLight(c, start) {
					s.TraceID = ids[w.k]
					out[w.k] = append(out[w.k], s)
				}
			} else if ok {
				out[w.k] = d.readSpans(out[w.k], c, start, ids[w.k])
			}
			if err := d.err(); err != nil || !ok {
				return nil, b.decodeErr(gi, cmpOr(err, errMalformed))
			}
		}
	}
	return out, nil
}

func cmpOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// Spans yields every span of the block in trace-ID order, the spans of one
// trace consecutive and sorted by start time. It decodes one row group at a
// time, so memory stays bounded by the row-group size. Spans of one row
// group share their Resource and Scope objects (which are copies owned by
// the caller). After an error it yields (nil, err) once and stops.
func (b *Block) Spans(ctx context.Context) iter.Seq2[*model.Span, error] {
	return func(yield func(*model.Span, error) bool) {
		var spans []*model.Span
		for gi := range b.rgs {
			var err error
			spans, err = b.decodeRowGroup(ctx, gi, spans[:0])
			if err != nil {
				yield(nil, err)
				return
			}
			for _, s := range spans {
				if !yield(s, nil) {
					return
				}
			}
			clear(spans)
		}
	}
}

// decodeRowGroup decodes every span of row group gi, appending to dst.
func (b *Block) decodeRowGroup(ctx context.Context, gi int, dst []*model.Span) ([]*model.Span, error) {
	d := b.newRGReader(gi)
	if err := b.load(ctx, d, gi, allColumns()...); err != nil {
		return dst, err
	}
	if err := d.openAll(); err != nil {
		return dst, b.decodeErr(gi, err)
	}
	d.setShare()
	for {
		c, start, ok := d.nextTrace()
		if !ok {
			break
		}
		dst = d.readSpans(dst, c, start, d.traceID(d.trace))
	}
	if err := d.finished(); err != nil {
		return dst, b.decodeErr(gi, err)
	}
	return dst, nil
}

// Verify reads the whole data file and checks it against the size and
// CRC-32C in meta.json, for scrubbing: reads check only the sections they
// touch. A mismatch is a *CorruptionError.
func (b *Block) Verify(ctx context.Context) error {
	fm, _ := b.meta.file(DataFile)
	h := crc32.New(castagnoli)
	buf := make([]byte, 1<<20)
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := b.f.ReadAt(buf, off)
		h.Write(buf[:n])
		off += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("block %s: verify: %w", b.dir, err)
		}
	}
	if off != fm.Bytes || h.Sum32() != fm.CRC32C {
		return &CorruptionError{Dir: b.dir, File: DataFile, Err: errChecksum}
	}
	return nil
}
