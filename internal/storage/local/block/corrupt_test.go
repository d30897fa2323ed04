package block

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// readAll opens a block and exercises every read path, returning the first
// error.
func readAll(dir string, ids []model.TraceID) error {
	b, err := Open(dir)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := context.Background()
	for _, err := range b.Spans(ctx) {
		if err != nil {
			return err
		}
	}
	for _, id := range ids {
		if _, err := b.Trace(ctx, id); err != nil {
			return err
		}
	}
	m, _ := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeAny, "k1", storage.OpExists, model.Value{})}})
	if _, err := b.Search(ctx, m, 1000); err != nil {
		return err
	}
	if err := b.Dependencies(ctx, storage.TimeRange{}, map[storage.DependencyKey]*storage.Dependency{}); err != nil {
		return err
	}
	_, err = b.AttributeValues(ctx, storage.ScopeAny, "k1", 0)
	return err
}

// Flipping any byte of any file, or truncating it, is reported as a
// *CorruptionError by Open or by a read, never as a panic or a wrong answer.
func TestCorruption(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	spans := genRandom(r, 60)
	var ids []model.TraceID
	seen := map[model.TraceID]bool{}
	for _, s := range spans {
		if !seen[s.TraceID] {
			seen[s.TraceID] = true
			ids = append(ids, s.TraceID)
		}
	}
	parent := t.TempDir()
	meta, err := Write(parent, spans, WriteOptions{RowGroupSpans: 40})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, meta.ID)
	if err := readAll(dir, ids); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{MetaFile, IndexFile, DictFile, BloomFile, DataFile} {
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, content []byte) {
			t.Helper()
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			err := readAll(dir, ids)
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("%s %s: got %v, want a CorruptionError", name, what, err)
			}
			if ce.File != name && !(name != MetaFile && ce.File == MetaFile) {
				t.Fatalf("%s %s: error names file %s: %v", name, what, ce.File, err)
			}
		}
		// Every byte of the small files; a sample of the data file.
		step := 1
		if len(orig) > 2000 {
			step = len(orig) / 500
		}
		for off := 0; off < len(orig); off += step {
			for _, mask := range []byte{0x01, 0x80} {
				c := append([]byte(nil), orig...)
				c[off] ^= mask
				check("flip", c)
			}
		}
		check("truncated", orig[:len(orig)-2]) // NB: not -1: meta.json without its final newline is intact
		check("empty", nil)
		check("extended", append(append([]byte(nil), orig...), 0))
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		check("missing", nil) // rewritten empty by check; also test a removed file:
		os.Remove(path)
		if err := readAll(dir, ids); err == nil {
			t.Fatalf("%s missing: no error", name)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := readAll(dir, ids); err != nil {
			t.Fatalf("restored %s: %v", name, err)
		}
	}
}

// A block written in another format version is refused as unsupported,
// not as corrupt.
func TestUnsupportedVersion(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	parent := t.TempDir()
	meta, err := Write(parent, genRandom(r, 3), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	meta.Version = FormatVersion + 1
	b, err := marshalMeta(meta)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, meta.ID)
	if err := os.WriteFile(filepath.Join(dir, MetaFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	var ce *CorruptionError
	if !errors.Is(err, ErrUnsupportedVersion) || errors.As(err, &ce) {
		t.Fatalf("Open: %v", err)
	}
}

// Verify detects a flipped byte anywhere in the data file, including in
// sections no read has touched.
func TestVerify(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 16))
	b := writeBlock(t, genRandom(r, 50), WriteOptions{RowGroupSpans: 30})
	ctx := context.Background()
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.Dir(), DataFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, len(orig) / 2, len(orig) - 1} {
		c := append([]byte(nil), orig...)
		c[off] ^= 0x10
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		var ce *CorruptionError
		if err := b.Verify(ctx); !errors.As(err, &ce) || ce.File != DataFile {
			t.Fatalf("flip at %d: %v", off, err)
		}
	}
}
