package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzReplay feeds arbitrary bytes as segment 1, followed by a valid
// segment 2. Replay must not panic; unless it reports unrepairable damage,
// it must still deliver segment 2's record, leave a log that replays
// identically without further corruption, and accept new records.
func FuzzReplay(f *testing.F) {
	valid := segmentHeader()
	seg := valid[:]
	for i := range 3 {
		r := record(0, i, 20+i*7)
		seg = appendRecord(seg, r, checksum(r))
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-5])
	f.Add(valid[:])
	f.Add(valid[:4])
	f.Add([]byte{})
	f.Add(make([]byte, 40))
	f.Add(append(bytes.Clone(valid[:]), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(segPath(dir, 1), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tail := []byte("tail record")
		seg2 := segmentHeader()
		if err := os.WriteFile(segPath(dir, 2), appendRecord(seg2[:], tail, checksum(tail)), 0o644); err != nil {
			t.Fatal(err)
		}

		l := mustOpen(t, dir, testOptions(nil, nil))
		var got [][]byte
		err := l.Replay(context.Background(), func(rec []byte) error {
			got = append(got, bytes.Clone(rec))
			return nil
		})
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Segment != 1 {
				t.Fatalf("Replay = %v, want nil or a CorruptionError in segment 1", err)
			}
			mustClose(t, l)
			return
		}
		if len(got) == 0 || !bytes.Equal(got[len(got)-1], tail) {
			t.Fatalf("lost segment 2's record; got %d records", len(got))
		}
		if l.Size() != dirSize(t, dir) {
			t.Fatalf("Size() = %d, files hold %d", l.Size(), dirSize(t, dir))
		}
		extra := []byte("appended after repair")
		appendAll(t, l, [][]byte{extra})
		mustClose(t, l)

		reg := prometheus.NewRegistry()
		l = mustOpen(t, dir, testOptions(reg, nil))
		defer mustClose(t, l)
		equalRecords(t, replayAll(t, l), append(got, extra))
		if n := metricValue(t, reg, "clew_wal_corruptions_total"); n != 0 {
			t.Fatalf("repaired log still has %v corruptions", n)
		}
	})
}
