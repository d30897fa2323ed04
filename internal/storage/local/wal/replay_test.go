package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// writeLog appends recs to a fresh log in dir and closes it.
func writeLog(t *testing.T, dir string, recs [][]byte) {
	t.Helper()
	l := mustOpen(t, dir, testOptions(nil, nil))
	appendAll(t, l, recs)
	mustClose(t, l)
}

// lastSegmentIndex returns the newest segment index in dir.
func lastSegmentIndex(t *testing.T, dir string) int {
	t.Helper()
	files, err := listSegments(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("listSegments: %v, %d files", err, len(files))
	}
	return files[len(files)-1].index
}

func TestReplayTornTail(t *testing.T) {
	dir := t.TempDir()
	recs := records(0, 50, 300)
	writeLog(t, dir, recs)
	last := lastSegmentIndex(t, dir)
	segRecs, offs := segmentRecords(t, segPath(dir, last))
	if len(segRecs) < 2 {
		t.Fatalf("last segment has %d records; the test needs two", len(segRecs))
	}
	fi, _ := os.Stat(segPath(dir, last))
	if err := os.Truncate(segPath(dir, last), fi.Size()-3); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	var logBuf bytes.Buffer
	l := mustOpen(t, dir, testOptions(reg, &logBuf))
	equalRecords(t, replayAll(t, l), recs[:len(recs)-1])
	if got := metricValue(t, reg, "clew_wal_corruptions_total"); got != 1 {
		t.Errorf("clew_wal_corruptions_total = %v, want 1", got)
	}
	torn := offs[len(offs)-1]
	if fi, _ := os.Stat(segPath(dir, last)); fi.Size() != torn {
		t.Errorf("segment truncated to %d, want %d", fi.Size(), torn)
	}
	if l.Size() != dirSize(t, dir) {
		t.Errorf("Size() = %d, files hold %d", l.Size(), dirSize(t, dir))
	}

	// Appends continue cleanly after the repaired tail.
	extra := records(1, 3, 300)
	appendAll(t, l, extra)
	mustClose(t, l)
	for _, want := range []string{"level=WARN", "segment=" + itoa(last), "offset=" + itoa(int(torn))} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logBuf.String())
		}
	}

	reg = prometheus.NewRegistry()
	l = mustOpen(t, dir, testOptions(reg, nil))
	defer mustClose(t, l)
	want := append(recs[:len(recs)-1:len(recs)-1], extra...)
	equalRecords(t, replayAll(t, l), want)
	if got := metricValue(t, reg, "clew_wal_corruptions_total"); got != 0 {
		t.Errorf("second replay found %v corruptions", got)
	}
}

func TestReplayCorruptMiddleSegment(t *testing.T) {
	f := func(name string, damage func(t *testing.T, path string, offs []int64)) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			recs := records(0, 60, 300)
			writeLog(t, dir, recs)
			if last := lastSegmentIndex(t, dir); last < 3 {
				t.Fatalf("only %d segments", last)
			}
			// The records of segments 1 and 3.., and the first two of segment 2, survive.
			seg1, _ := segmentRecords(t, segPath(dir, 1))
			seg2, offs := segmentRecords(t, segPath(dir, 2))
			want := append(slicesClone(seg1), seg2[:2]...)
			for i := 3; i <= lastSegmentIndex(t, dir); i++ {
				r, _ := segmentRecords(t, segPath(dir, i))
				want = append(want, slicesClone(r)...)
			}
			damage(t, segPath(dir, 2), offs)

			reg := prometheus.NewRegistry()
			l := mustOpen(t, dir, testOptions(reg, nil))
			defer mustClose(t, l)
			equalRecords(t, replayAll(t, l), want)
			if got := metricValue(t, reg, "clew_wal_corruptions_total"); got != 1 {
				t.Errorf("clew_wal_corruptions_total = %v, want 1", got)
			}
			if fi, _ := os.Stat(segPath(dir, 2)); fi.Size() != offs[2] {
				t.Errorf("segment 2 truncated to %d, want %d", fi.Size(), offs[2])
			}
		})
	}
	f("flipped payload byte", func(t *testing.T, path string, offs []int64) {
		flipByte(t, path, offs[2]+recordHeaderSize+5)
	})
	f("flipped crc byte", func(t *testing.T, path string, offs []int64) {
		flipByte(t, path, offs[2]+recordLengthSize)
	})
	f("huge length", func(t *testing.T, path string, offs []int64) {
		writeAt(t, path, offs[2], []byte{0xff, 0xff, 0xff, 0x7f})
	})
	f("length past end", func(t *testing.T, path string, offs []int64) {
		writeAt(t, path, offs[2], []byte{0x00, 0x00, 0x10, 0x00})
	})
	f("zeroed tail", func(t *testing.T, path string, offs []int64) {
		fi, _ := os.Stat(path)
		writeAt(t, path, offs[2], make([]byte, fi.Size()-offs[2]))
	})
}

func TestReplayTornHeader(t *testing.T) {
	for _, size := range []int{0, 3, 8} {
		dir := t.TempDir()
		recs := records(0, 5, 100)
		writeLog(t, dir, recs)
		// A crash while creating segment 2 left a short or zero-filled header.
		content := make([]byte, size)
		if size == 3 {
			copy(content, "CLE")
		}
		if err := os.WriteFile(segPath(dir, 2), content, 0o644); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		l := mustOpen(t, dir, testOptions(reg, nil))
		equalRecords(t, replayAll(t, l), recs)
		if got := metricValue(t, reg, "clew_wal_corruptions_total"); got != 1 {
			t.Errorf("size %d: clew_wal_corruptions_total = %v, want 1", size, got)
		}
		extra := records(1, 2, 100)
		appendAll(t, l, extra)
		mustClose(t, l)

		l = mustOpen(t, dir, testOptions(nil, nil))
		equalRecords(t, replayAll(t, l), append(recs, extra...))
		mustClose(t, l)
	}
}

func TestReplayUnrepairableHeader(t *testing.T) {
	f := func(content string, wantErr error) {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(segPath(dir, 1), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir, testOptions(nil, nil))
		defer mustClose(t, l)
		err := l.Replay(context.Background(), func([]byte) error { return nil })
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Segment != 1 || ce.Offset != 0 || !errors.Is(err, wantErr) {
			t.Fatalf("Replay(%q) = %v, want a CorruptionError wrapping %v", content, err, wantErr)
		}
		// The file is left alone for an operator to inspect.
		if got, _ := os.ReadFile(segPath(dir, 1)); string(got) != content {
			t.Fatalf("segment modified: %q", got)
		}
		// Appends still work, in a new segment.
		appendAll(t, l, records(0, 1, 10))
		if _, last, _ := l.Segments(); last != 2 {
			t.Fatalf("appended to segment %d, want 2", last)
		}
	}
	f("CLEWWAL\x02rest", errBadVersion)
	f("NOTAWAL\x01rest", errBadMagic)
	f("garbage", errTornHeader)
}

func TestReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, records(0, 5, 10))
	l := mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	boom := errors.New("boom")
	n := 0
	err := l.Replay(context.Background(), func([]byte) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Fatalf("Replay = %v after %d records", err, n)
	}
	// An incomplete replay does not resume the last segment.
	appendAll(t, l, records(1, 1, 10))
	if _, last, _ := l.Segments(); last != 2 {
		t.Fatalf("appended to segment %d, want 2", last)
	}
}

func TestReplayContextCancelled(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, records(0, 5, 10))
	l := mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Replay(ctx, func([]byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Replay = %v, want context.Canceled", err)
	}
}

func TestAppendDuringReplay(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, records(0, 1, 10))
	l := mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	err := l.Replay(context.Background(), func([]byte) error {
		if err := l.Append(context.Background(), []byte("x")); !errors.Is(err, ErrReplayInProgress) {
			t.Errorf("Append during Replay = %v", err)
		}
		if err := l.Replay(context.Background(), nil); !errors.Is(err, ErrReplayInProgress) {
			t.Errorf("nested Replay = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flipByte inverts the bits of the byte at off.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, off, []byte{^data[off]})
}

// writeAt overwrites bytes of a file.
func writeAt(t *testing.T, path string, off int64, p []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(p, off); err != nil {
		t.Fatal(err)
	}
}

// dirSize sums the sizes of the segment files in dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range files {
		n += f.size
	}
	return n
}

// slicesClone deep-copies records, which alias file contents read by
// segmentRecords.
func slicesClone(recs [][]byte) [][]byte {
	out := make([][]byte, len(recs))
	for i, r := range recs {
		out[i] = bytes.Clone(r)
	}
	return out
}

// itoa formats an int for log matching.
func itoa(n int) string { return strconv.Itoa(n) }
