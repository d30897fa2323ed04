package block

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/clew-tracing/clew/internal/model"
)

// WriteOptions configure a Writer.
type WriteOptions struct {
	// Level is stored in Meta.Level: 0 for a block cut from the head,
	// max(sources)+1 for a compaction's output.
	Level int
	// Sources are the IDs of the compacted blocks, stored in Meta.Sources.
	Sources []string
	// RowGroupSpans is the target number of spans per row group
	// (DefaultRowGroupSpans when 0). A row group ends at the first trace
	// boundary after this many spans; a single trace longer than twice this
	// is split across row groups so that memory stays bounded.
	RowGroupSpans int
	// ExtraFiles, when set, is called by Finish once every span has been
	// appended; the files it returns are written into the block beside
	// its own and listed in Meta.Files with their size and CRC-32C. They
	// hold data the block does not interpret (the engine's per-minute
	// operation statistics, which a compaction computes from the spans
	// it writes). Names must be plain and not clash with the block's own
	// files. Readers get them back with [Block.ReadFile].
	ExtraFiles func() []ExtraFile
}

// checkExtraFiles reports extra files that cannot be written.
func checkExtraFiles(fs []ExtraFile) error {
	for i, f := range fs {
		switch f.Name {
		case "", ".", "..", DataFile, DictFile, IndexFile, BloomFile, MetaFile:
			return fmt.Errorf("block: extra file name %q is reserved", f.Name)
		}
		if strings.ContainsAny(f.Name, `/\`) {
			return fmt.Errorf("block: extra file name %q is not plain", f.Name)
		}
		for _, g := range fs[:i] {
			if g.Name == f.Name {
				return fmt.Errorf("block: extra file %q given twice", f.Name)
			}
		}
	}
	return nil
}

// ExtraFile is a file written into a block on behalf of its user.
type ExtraFile struct {
	Name string
	Data []byte
}

// Validate reports options that cannot be used.
func (o *WriteOptions) Validate() error {
	if o.RowGroupSpans < 0 || o.RowGroupSpans > maxRowGroupSpans/2 {
		return fmt.Errorf("block: RowGroupSpans %d out of range [0, %d]", o.RowGroupSpans, maxRowGroupSpans/2)
	}
	if o.Level < 0 {
		return fmt.Errorf("block: negative level %d", o.Level)
	}
	return nil
}

// Writer streams spans into a new block. Spans must be appended in
// non-decreasing trace-ID order (bytes.Compare on TraceID), in any order
// within a trace. The block is written into parent/<id>.tmp-for-creation;
// Finish fsyncs it and renames it to parent/<id>, so that a crash never
// leaves a half-written block under a final name. Memory is bounded by the
// row-group size plus the block's dictionaries (services, span names,
// attribute keys, distinct resources and scopes), never by the number of
// spans. A Writer keeps references to appended spans until their row group
// is written; they must not be modified meanwhile. Not safe for concurrent
// use.
type Writer struct {
	parent, id, tmp string
	opts            WriteOptions

	f   *os.File
	bw  *bufio.Writer
	crc hash.Hash32
	off int64

	enc  *zstd.Encoder
	dict *dictBuilder
	re   *rgEncoder
	comp []byte // compressed parts of the section being built
	sec  []byte // the section being built

	buf    []*model.Span
	rgs    []rowGroup
	splits []splitTrace
	// hashes holds traceHash of every trace, for the bloom file.
	hashes []uint64

	last     model.TraceID
	started  bool
	curSplit bool   // the current trace already spans a row-group boundary
	curMin   uint64 // the current trace's smallest start
	contNext bool   // the next row group starts with a continued trace

	lastRes   *model.Resource
	lastScope *model.Scope

	minTime, maxTime uint64
	spans, traces    int

	closed bool
	err    error
}

// NewWriter creates parent/<id>.tmp-for-creation and returns a Writer into
// it. parent is created if needed.
func NewWriter(parent string, opts WriteOptions) (*Writer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.RowGroupSpans == 0 {
		opts.RowGroupSpans = DefaultRowGroupSpans
	}
	opts.Sources = slices.Clone(opts.Sources)
	id, err := newID(time.Now())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	tmp := filepath.Join(parent, id+TmpSuffix)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	f, err := os.Create(filepath.Join(tmp, DataFile))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("block: %w", err), os.RemoveAll(tmp))
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("block: zstd: %w", err), f.Close(), os.RemoveAll(tmp))
	}
	w := &Writer{
		parent: parent, id: id, tmp: tmp, opts: opts,
		f: f, bw: bufio.NewWriterSize(f, 1<<20), crc: crc32.New(castagnoli),
		enc: enc, dict: newDictBuilder(),
	}
	w.re = newRGEncoder(w.dict)
	w.write(append([]byte(magicData), FormatVersion))
	if w.err != nil {
		return nil, errors.Join(w.err, w.Abort())
	}
	return w, nil
}

// write appends to the data file, tracking its size and checksum.
func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("block: write data: %w", err)
		return
	}
	w.crc.Write(b)
	w.off += int64(len(b))
}

// checkSpan reports a span the format cannot store.
func (w *Writer) checkSpan(s *model.Span) error {
	if s == nil {
		return errors.New("block: nil span")
	}
	if err := checkKVs(s.Attributes, 0); err != nil {
		return fmt.Errorf("block: span %s: %w", s.SpanID, err)
	}
	for i := range s.Events {
		if err := checkKVs(s.Events[i].Attributes, 0); err != nil {
			return fmt.Errorf("block: span %s event %d: %w", s.SpanID, i, err)
		}
	}
	for i := range s.Links {
		if err := checkKVs(s.Links[i].Attributes, 0); err != nil {
			return fmt.Errorf("block: span %s link %d: %w", s.SpanID, i, err)
		}
	}
	if s.Resource != nil && s.Resource != w.lastRes {
		if err := checkKVs(s.Resource.Attributes, 0); err != nil {
			return fmt.Errorf("block: span %s resource: %w", s.SpanID, err)
		}
		w.lastRes = s.Resource
	}
	if s.Scope != nil && s.Scope != w.lastScope {
		if err := checkKVs(s.Scope.Attributes, 0); err != nil {
			return fmt.Errorf("block: span %s scope: %w", s.SpanID, err)
		}
		w.lastScope = s.Scope
	}
	return nil
}

// Append adds a span. A span that cannot be stored (nil, out of trace-ID
// order, an attribute value of unknown type or nested too deeply) is
// rejected with an error and the Writer stays usable; an I/O error is
// sticky.
func (w *Writer) Append(s *model.Span) error {
	if w.closed {
		return ErrWriterClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.checkSpan(s); err != nil {
		return err
	}
	c := bytes.Compare(s.TraceID[:], w.last[:])
	if w.started && c < 0 {
		return fmt.Errorf("%w: %s after %s", ErrOutOfOrder, s.TraceID, w.last)
	}
	rgSpans := w.opts.RowGroupSpans
	if !w.started || c != 0 {
		w.endTrace()
		if len(w.buf) >= rgSpans {
			w.flush(false)
		}
		w.traces++
		w.hashes = append(w.hashes, traceHash(s.TraceID))
		w.curMin = s.StartUnixNano
		w.curSplit = false
	} else {
		if len(w.buf) >= 2*rgSpans {
			w.flush(true)
			w.curSplit = true
		}
		w.curMin = min(w.curMin, s.StartUnixNano)
	}
	if w.err != nil {
		return w.err
	}
	if w.spans == 0 {
		w.minTime, w.maxTime = s.StartUnixNano, s.StartUnixNano
	}
	w.minTime = min(w.minTime, s.StartUnixNano)
	w.maxTime = max(w.maxTime, s.EndUnixNano, s.StartUnixNano)
	w.spans++
	w.started = true
	w.last = s.TraceID
	w.buf = append(w.buf, s)
	return nil
}

// endTrace records the trace just finished if it was split.
func (w *Writer) endTrace() {
	if w.started && w.curSplit {
		w.splits = append(w.splits, splitTrace{id: w.last, minStart: w.curMin})
	}
	w.curSplit = false
}

// flush writes the buffered spans as one row group. split says the last
// trace continues in the next row group.
func (w *Writer) flush(split bool) {
	if len(w.buf) == 0 || w.err != nil {
		return
	}
	buf := w.buf
	for i := 0; i < len(buf); {
		j := i + 1
		for j < len(buf) && buf[j].TraceID == buf[i].TraceID {
			j++
		}
		slices.SortStableFunc(buf[i:j], func(a, b *model.Span) int { return cmp.Compare(a.StartUnixNano, b.StartUnixNano) })
		i = j
	}
	g := w.re.encode(buf)
	if w.contNext {
		g.flags |= flagFirstContinued
	}
	if split {
		g.flags |= flagLastContinues
	}
	w.contNext = split
	for c := range g.cols {
		s := &g.cols[c]
		s.off = w.off
		w.sec, s.raw = w.section(w.sec[:0], w.re.parts[c])
		s.size = uint32(len(w.sec))
		s.crc = crc32c(w.sec)
		w.write(w.sec)
	}
	w.rgs = append(w.rgs, g)
	clear(w.buf)
	w.buf = w.buf[:0]
}

// section renders a column section from its parts (see parts.go),
// compressing each part unless compression does not pay, and returns it
// with the parts' total decompressed size.
func (w *Writer) section(dst []byte, parts [][]byte) ([]byte, uint32) {
	dst = appendUvarint(dst, uint64(len(parts)))
	w.comp = w.comp[:0]
	var raw uint64
	for _, p := range parts {
		raw += uint64(len(p))
		start := len(w.comp)
		codec := byte(codecRaw)
		if len(p) > 0 {
			w.comp = w.enc.EncodeAll(p, w.comp)
			// NB: keep parts that do not compress (random IDs) raw; they
			// then cost no decompression on read.
			if len(w.comp)-start < len(p)-len(p)/32 {
				codec = codecZstd
			} else {
				w.comp = append(w.comp[:start], p...)
			}
		}
		dst = append(dst, codec)
		dst = appendUvarint(dst, uint64(len(w.comp)-start))
		dst = appendUvarint(dst, uint64(len(p)))
	}
	return append(dst, w.comp...), uint32(min(raw, maxSectionRaw))
}

// Finish writes the remaining spans, the dict, the index and meta.json,
// fsyncs them and renames the directory into place. With no spans it
// removes the temporary directory and returns ErrEmpty.
func (w *Writer) Finish() (Meta, error) {
	if w.closed {
		return Meta{}, ErrWriterClosed
	}
	if w.err != nil {
		return Meta{}, errors.Join(w.err, w.Abort())
	}
	if w.spans == 0 {
		return Meta{}, errors.Join(ErrEmpty, w.Abort())
	}
	w.flush(false)
	w.endTrace()
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = err
		}
	}
	if w.err != nil {
		return Meta{}, errors.Join(w.err, w.Abort())
	}
	meta, err := w.finish()
	if err != nil {
		return Meta{}, errors.Join(err, w.Abort())
	}
	w.closed = true
	w.enc.Close()
	return meta, nil
}

func (w *Writer) finish() (Meta, error) {
	if err := w.f.Sync(); err != nil {
		return Meta{}, fmt.Errorf("block: sync data: %w", err)
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return Meta{}, fmt.Errorf("block: close data: %w", err)
	}
	payload := w.dict.marshal()
	dict := append([]byte(magicDict), FormatVersion)
	comp := w.enc.EncodeAll(payload, nil)
	if len(comp) < len(payload) {
		dict = append(dict, codecZstd)
	} else {
		dict, comp = append(dict, codecRaw), payload
	}
	dict = appendUvarint(dict, uint64(len(payload)))
	dict = append(dict, comp...)
	dict = appendU32(dict, crc32c(dict))
	index := marshalIndex(w.rgs, w.splits)
	filter := newBloom(len(w.hashes))
	for _, h := range w.hashes {
		filter.add(h)
	}
	bloomFile := marshalBloom(filter)

	meta := Meta{
		Version: FormatVersion, ID: w.id, MinTime: w.minTime, MaxTime: w.maxTime,
		SpanCount: w.spans, TraceCount: w.traces, Level: w.opts.Level, Sources: w.opts.Sources,
		RowGroups: len(w.rgs),
		Files: []FileMeta{
			{Name: DataFile, Bytes: w.off, CRC32C: w.crc.Sum32()},
			{Name: DictFile, Bytes: int64(len(dict)), CRC32C: crc32c(dict)},
			{Name: IndexFile, Bytes: int64(len(index)), CRC32C: crc32c(index)},
			{Name: BloomFile, Bytes: int64(len(bloomFile)), CRC32C: crc32c(bloomFile)},
		},
	}
	meta.Bytes = w.off + int64(len(dict)) + int64(len(index)) + int64(len(bloomFile))
	files := []struct {
		name string
		b    []byte
	}{{DictFile, dict}, {IndexFile, index}, {BloomFile, bloomFile}}
	var extra []ExtraFile
	if w.opts.ExtraFiles != nil {
		extra = w.opts.ExtraFiles()
		if err := checkExtraFiles(extra); err != nil {
			return Meta{}, err
		}
	}
	for _, f := range extra {
		meta.Files = append(meta.Files, FileMeta{Name: f.Name, Bytes: int64(len(f.Data)), CRC32C: crc32c(f.Data)})
		meta.Bytes += int64(len(f.Data))
		files = append(files, struct {
			name string
			b    []byte
		}{f.Name, f.Data})
	}
	mj, err := marshalMeta(meta)
	if err != nil {
		return Meta{}, fmt.Errorf("block: meta: %w", err)
	}
	files = append(files, struct {
		name string
		b    []byte
	}{MetaFile, mj})
	for _, f := range files {
		if err := writeFileSync(filepath.Join(w.tmp, f.name), f.b); err != nil {
			return Meta{}, err
		}
	}
	if err := syncDir(w.tmp); err != nil {
		return Meta{}, err
	}
	final := filepath.Join(w.parent, w.id)
	if err := os.Rename(w.tmp, final); err != nil {
		return Meta{}, fmt.Errorf("block: %w", err)
	}
	if err := syncDir(w.parent); err != nil {
		// The block is in place; only its durability is in doubt.
		return Meta{}, errors.Join(err, os.RemoveAll(final))
	}
	meta.Checksum, _ = metaChecksum(meta)
	return meta, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("block: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("block: sync %s: %w", dir, err)
	}
	return nil
}

// Abort discards the block being written. It is safe to call after Finish
// (then it does nothing) and more than once.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.enc.Close()
	var err error
	if w.f != nil {
		err = w.f.Close()
		w.f = nil
	}
	clear(w.buf)
	w.buf, w.hashes = nil, nil
	return errors.Join(err, os.RemoveAll(w.tmp))
}

// Write sorts a copy of spans by trace ID and writes them as one block.
func Write(parent string, spans []*model.Span, opts WriteOptions) (Meta, error) {
	if len(spans) == 0 {
		return Meta{}, ErrEmpty
	}
	sorted := slices.Clone(spans)
	slices.SortStableFunc(sorted, func(a, b *model.Span) int {
		return cmp.Or(bytes.Compare(a.TraceID[:], b.TraceID[:]), cmp.Compare(a.StartUnixNano, b.StartUnixNano))
	})
	w, err := NewWriter(parent, opts)
	if err != nil {
		return Meta{}, err
	}
	for _, s := range sorted {
		if err := w.Append(s); err != nil {
			return Meta{}, errors.Join(err, w.Abort())
		}
	}
	return w.Finish()
}
