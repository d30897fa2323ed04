package block

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

// The filter never forgets an ID and lets through about 1% of absent
// ones, for random and for sequential IDs (some generators count).
func TestBloom(t *testing.T) {
	const n = 50_000
	r := rand.New(rand.NewPCG(21, 21))
	for _, kind := range []string{"random", "sequential"} {
		id := func(i int) model.TraceID {
			var x model.TraceID
			if kind == "random" {
				binary.LittleEndian.PutUint64(x[:8], r.Uint64())
				binary.LittleEndian.PutUint64(x[8:], r.Uint64())
			} else {
				binary.BigEndian.PutUint64(x[:8], 0xc1e3)
				binary.BigEndian.PutUint64(x[8:], uint64(i))
			}
			return x
		}
		f := newBloom(n)
		in := make([]model.TraceID, n)
		for i := range in {
			in[i] = id(i)
			f.add(traceHash(in[i]))
		}
		g, err := parseBloom(marshalBloom(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range in {
			if !g.has(traceHash(x)) {
				t.Fatalf("%s: %s added but not found", kind, x)
			}
		}
		fp := 0
		for i := range n {
			if g.has(traceHash(id(n + i))) {
				fp++
			}
		}
		if rate := float64(fp) / n; rate > 0.02 {
			t.Errorf("%s: false-positive rate %.4f, want about 0.01", kind, rate)
		}
	}
}

// A block written before the bloom file existed (meta.json does not list
// it) opens and answers lookups without a filter.
func TestBlockWithoutBloom(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	spans := genRandom(r, 100)
	parent := t.TempDir()
	meta, err := Write(parent, spans, WriteOptions{RowGroupSpans: 30})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, meta.ID)
	if err := os.Remove(filepath.Join(dir, BloomFile)); err != nil {
		t.Fatal(err)
	}
	var files []FileMeta
	for _, f := range meta.Files {
		if f.Name == BloomFile {
			meta.Bytes -= f.Bytes
			continue
		}
		files = append(files, f)
	}
	meta.Files = files
	mj, err := marshalMeta(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, MetaFile), mj, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.bloom != nil {
		t.Fatal("filter loaded from a block without one")
	}
	ctx := context.Background()
	for id, want := range byTraceID(spans) {
		got, err := b.Trace(ctx, id)
		if err != nil || len(got) != len(want) {
			t.Fatalf("Trace(%s): %d spans, %v; want %d", id, len(got), err, len(want))
		}
	}
	if got, err := b.Trace(ctx, model.TraceID{0xff, 1}); err != nil || got != nil {
		t.Fatalf("absent trace: %v, %v", got, err)
	}
}

func byTraceID(spans []*model.Span) map[model.TraceID][]*model.Span {
	m := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		m[s.TraceID] = append(m[s.TraceID], s)
	}
	return m
}
