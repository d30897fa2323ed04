package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// flipByte inverts one byte in the middle of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptBlockQuarantined(t *testing.T) {
	for _, file := range []string{block.DataFile, block.IndexFile, block.DictFile, block.MetaFile} {
		t.Run(file, func(t *testing.T) {
			clock := newFakeClock(testEpoch)
			dir := t.TempDir()
			db := openManual(t, dir, testOptions(clock))
			bad := gen(40, 10, 5, testEpoch.Add(-20*time.Minute))
			good := gen(41, 10, 5, testEpoch.Add(-10*time.Minute))
			mustWrite(t, db, bad)
			mustFlush(t, db)
			badID := blockIDs(db)[0]
			mustWrite(t, db, good)
			mustFlush(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			flipByte(t, filepath.Join(dir, blocksDirName, badID, file))

			db = openManual(t, dir, testOptions(clock))
			ctx := context.Background()
			// Reading every trace of the damaged block finds the damage
			// (at Open for the small files, lazily for the data file);
			// the query carries on without the block.
			for id := range byTrace(bad) {
				if _, err := db.Trace(ctx, id, storage.TimeRange{}); err != nil && !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("Trace on a corrupt block: %v", err)
				}
			}
			if got := db.Quarantined(); !slices.Equal(got, []string{badID}) {
				t.Fatalf("quarantined = %v, want [%s]", got, badID)
			}
			if ids := blockIDs(db); slices.Contains(ids, badID) {
				t.Fatalf("corrupt block still served: %v", ids)
			}
			checkTraces(t, db, good)
			if _, err := db.FindTraces(ctx, &storage.Query{}); err != nil {
				t.Fatalf("FindTraces: %v", err)
			}
			herr := db.Health()
			if herr == nil || !strings.Contains(herr.Error(), badID) {
				t.Fatalf("Health() = %v, want it to name %s", herr, badID)
			}
			if _, err := os.Stat(filepath.Join(dir, quarantineDirName, badID)); err != nil {
				t.Fatalf("block not in quarantine: %v", err)
			}
			if got := testCounter(t, db.metrics.quarantined); got != 1 {
				t.Errorf("quarantined_blocks_total = %v, want 1", got)
			}
		})
	}
}

// TestCorruptBlockDuringQuery damages a block while the DB serves it: the
// read that meets the damage quarantines the block.
func TestCorruptBlockDuringQuery(t *testing.T) {
	clock := newFakeClock(testEpoch)
	db := openManual(t, t.TempDir(), testOptions(clock))
	bad := gen(42, 10, 5, testEpoch.Add(-20*time.Minute))
	good := gen(43, 10, 5, testEpoch.Add(-10*time.Minute))
	mustWrite(t, db, bad)
	mustFlush(t, db)
	badID := blockIDs(db)[0]
	mustWrite(t, db, good)
	flipByte(t, filepath.Join(db.blocksDir, badID, block.DataFile))

	ctx := context.Background()
	all := slices.Concat(bad, good)
	for id := range byTrace(all) {
		if _, err := db.Trace(ctx, id, storage.TimeRange{}); err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Trace: %v", err)
		}
	}
	if got := db.Quarantined(); !slices.Equal(got, []string{badID}) {
		t.Fatalf("quarantined = %v, want [%s]", got, badID)
	}
	checkTraces(t, db, good)
	// Writes and cuts go on.
	more := gen(44, 3, 3, testEpoch.Add(-time.Minute))
	mustWrite(t, db, more)
	mustFlush(t, db)
	checkTraces(t, db, slices.Concat(good, more))
	if db.Health() == nil {
		t.Fatal("Health() = nil with a quarantined block")
	}
}
