package block

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// fuzzFixture is a small valid row group, encoded in memory.
type fuzzFixture struct {
	dict  *blockDict
	g     rowGroup
	parts [numColumns][][]byte
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	r := rand.New(rand.NewPCG(13, 13))
	spans := sortSpans(genRandom(r, 12))
	db := newDictBuilder()
	e := newRGEncoder(db)
	g := e.encode(spans)
	dict, err := parseDict(db.marshal())
	if err != nil {
		t.Fatal(err)
	}
	f := &fuzzFixture{dict: dict, g: g}
	for c := range f.parts {
		for _, p := range e.parts[c] {
			f.parts[c] = append(f.parts[c], append([]byte{}, p...))
		}
	}
	return f
}

// decodeAll runs every decoder over the row group d: a full decode, a skip
// pass, a search with conditions on every column, dependencies and
// attribute values. It must return errors, never panic.
func (f *fuzzFixture) decodeAll(d *rgReader) {
	if d.openAll() != nil {
		return
	}
	d.setShare()
	for {
		c, start, ok := d.nextTrace()
		if !ok {
			break
		}
		d.readSpans(nil, c, start, d.traceID(d.trace))
	}
	_ = d.finished()
}

// reader returns a reader of the fixture's row group with part part of
// column col replaced by data.
func (f *fuzzFixture) reader(col, part int, data []byte) *rgReader {
	d := &rgReader{dict: f.dict, g: &f.g, decompress: (&Block{}).decompress}
	for c := range d.sec {
		for i, p := range f.parts[c] {
			if c == col && i == part%len(f.parts[c]) {
				p = append([]byte{}, data...)
			}
			d.parts[c] = append(d.parts[c], storedPart{codec: codecRaw, data: p, raw: uint32(len(p))})
		}
		d.sec[c] = d.parts[c][0].data
	}
	return d
}

func FuzzDecodeRowGroup(f *testing.F) {
	fx := newFuzzFixture(f)
	for c, parts := range fx.parts {
		for i, p := range parts {
			f.Add(uint8(c), uint8(i), p)
		}
	}
	b := &Block{dict: fx.dict, rgs: []rowGroup{fx.g}, meta: Meta{MaxTime: ^uint64(0)}}
	var queries []*storage.Matcher
	for _, q := range searchQueries(1_700_000_000_000_000_000)[:160] {
		m, err := storage.NewMatcher(&q)
		if err != nil {
			f.Fatal(err)
		}
		queries = append(queries, m)
	}
	f.Fuzz(func(t *testing.T, col, part uint8, data []byte) {
		c, pi := int(col)%numColumns, int(part)
		fx.decodeAll(fx.reader(c, pi, data))

		d := fx.reader(c, pi, data)
		if d.openAll() == nil {
			for {
				n, _, ok := d.nextTrace()
				if !ok {
					break
				}
				d.skipSpans(n)
			}
			_ = d.finished()
		}

		for _, m := range queries {
			p, ok, err := b.plan(m.Query())
			if err != nil || !ok {
				continue
			}
			_ = b.searchRowGroup(context.Background(), p, 0, fx.reader(c, pi, data), NewTopHits(20, nil))
		}
		d = fx.reader(c, pi, data)
		if d.openAll() == nil {
			for {
				n, start, ok := d.nextTrace()
				if !ok {
					break
				}
				d.readLight(n, start)
			}
		}
	})
}

// FuzzParse feeds arbitrary bytes to the parsers of the small files and of
// inline values.
func FuzzParse(f *testing.F) {
	r := rand.New(rand.NewPCG(14, 14))
	parent := f.TempDir()
	meta, err := Write(parent, genRandom(r, 20), WriteOptions{RowGroupSpans: 16})
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join(parent, meta.ID)
	for i, name := range []string{MetaFile, IndexFile, DictFile} {
		c, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), c)
	}
	b, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close()
	db := newDictBuilder()
	newRGEncoder(db).encode(sortSpans(genRandom(r, 5)))
	f.Add(uint8(3), db.marshal())
	v := model.Value{Type: model.TypeMap, Map: randKVs(r, 3, 3)}
	f.Add(uint8(4), appendValue(nil, &v))
	bf, err := os.ReadFile(filepath.Join(dir, BloomFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(5), bf)
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		switch kind % 6 {
		case 0:
			_, _ = parseMeta(data)
		case 1:
			// Fix the trailer so that the parser itself is exercised.
			if len(data) >= headerLen+crcLen {
				body := data[:len(data)-crcLen]
				data = appendU32(append([]byte{}, body...), crc32c(body))
			}
			_, _, _ = parseIndex(data, 50, 1<<20)
		case 2:
			if len(data) >= headerLen+crcLen {
				body := data[:len(data)-crcLen]
				data = appendU32(append([]byte{}, body...), crc32c(body))
			}
			if d, err := b.loadDict(data); err == nil && d == nil {
				t.Fatal("nil dict without error")
			}
		case 3:
			_, _ = parseDict(data)
		case 4:
			r := newReader(data)
			v := readValue(&r, 0)
			if r.err == nil {
				if err := checkValue(&v, 0); err != nil {
					t.Fatalf("decoded value fails check: %v", err)
				}
			}
		case 5:
			if len(data) >= headerLen+crcLen {
				body := data[:len(data)-crcLen]
				data = appendU32(append([]byte{}, body...), crc32c(body))
			}
			if f, err := parseBloom(data); err == nil {
				f.has(traceHash(model.TraceID{1})) // must not panic
			}
		}
	})
}
