package block

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Extra files round-trip, are listed in the meta with their checksum, and
// are checked when read; a block without one reports ErrNoFile.
func TestExtraFiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	spans := genRandom(r, 20)
	want := []byte("per-minute statistics")
	b := writeBlock(t, spans, WriteOptions{ExtraFiles: func() []ExtraFile { return []ExtraFile{{Name: "stats", Data: want}} }})
	got, err := b.ReadFile("stats")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile(stats) = %q, %v; want %q", got, err, want)
	}
	if _, ok := b.meta.file("stats"); !ok {
		t.Errorf("meta.Files lacks stats: %+v", b.meta.Files)
	}
	if _, err := b.ReadFile("other"); !errors.Is(err, ErrNoFile) {
		t.Errorf("ReadFile(other) err = %v, want ErrNoFile", err)
	}
	if _, err := b.ReadFile(DataFile); err == nil {
		t.Errorf("ReadFile(data) succeeded")
	}
	if err := os.WriteFile(filepath.Join(b.Dir(), "stats"), []byte("per-minute statisticz"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptionError
	if _, err := b.ReadFile("stats"); !errors.As(err, &ce) {
		t.Errorf("ReadFile(corrupted stats) err = %v, want CorruptionError", err)
	}

	plain := writeBlock(t, spans, WriteOptions{})
	if _, err := plain.ReadFile("stats"); !errors.Is(err, ErrNoFile) {
		t.Errorf("ReadFile on a block without stats: err = %v, want ErrNoFile", err)
	}

	for _, name := range []string{"", DataFile, MetaFile, "a/b"} {
		if err := checkExtraFiles([]ExtraFile{{Name: name}}); err == nil {
			t.Errorf("Validate accepted extra file name %q", name)
		}
	}
}
