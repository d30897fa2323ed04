package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testOptions returns options with small segments, a registry and a logger
// writing into buf (which may be nil).
func testOptions(reg *prometheus.Registry, buf *bytes.Buffer) Options {
	o := Options{SegmentSize: 4 << 10}
	if reg != nil { // NB: a typed nil would not be a nil Registerer
		o.Registerer = reg
	}
	if buf != nil {
		o.Logger = slog.New(slog.NewTextHandler(buf, nil))
	} else {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// mustOpen opens a log and fails the test on error.
func mustOpen(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// mustClose closes a log and fails the test on error.
func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// record returns a deterministic payload of about n bytes for (g, i).
func record(g, i, n int) []byte {
	p := fmt.Appendf(nil, "g%d-i%d:", g, i)
	for len(p) < n {
		p = append(p, byte('a'+(len(p)+i)%26))
	}
	return p
}

// appendAll appends every record and fails the test on error.
func appendAll(t testing.TB, l *Log, recs [][]byte) {
	t.Helper()
	for i, r := range recs {
		if err := l.Append(context.Background(), r); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// replayAll replays the log and returns copies of every record.
func replayAll(t testing.TB, l *Log) [][]byte {
	t.Helper()
	var got [][]byte
	err := l.Replay(context.Background(), func(rec []byte) error {
		got = append(got, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return got
}

// records returns n records of size sz for generator g.
func records(g, n, sz int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = record(g, i, sz)
	}
	return recs
}

// equalRecords fails the test if got and want differ.
func equalRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// segmentRecords parses a segment file independently of the package's
// reader and returns its records and their offsets.
func segmentRecords(t testing.TB, path string) (recs [][]byte, offs []int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:7]) != "CLEWWAL" || data[7] != 1 {
		t.Fatalf("%s: bad header %q", path, data[:8])
	}
	for off := 8; off < len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		offs = append(offs, int64(off))
		recs = append(recs, data[off+8:off+8+n])
		off += 8 + n
	}
	return recs, offs
}

// segPath returns the path of segment idx in dir.
func segPath(dir string, idx int) string {
	return filepath.Join(dir, fmt.Sprintf("%08d", idx))
}

// metricValue returns the value of a counter or gauge, or a histogram's
// sample count, from reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestFormatConstants(t *testing.T) {
	if segmentHeaderSize != len(segmentMagic)+1 {
		t.Fatalf("segmentHeaderSize %d, want %d", segmentHeaderSize, len(segmentMagic)+1)
	}
	h := segmentHeader()
	if string(h[:]) != "CLEWWAL\x01" {
		t.Fatalf("header %q", h)
	}
	if got := segmentName(1); got != "00000001" {
		t.Fatalf("segmentName(1) = %q", got)
	}
	for name, want := range map[string]int{"00000001": 1, "12345678": 12345678, "00000000": 0, "0000001": 0, "0000000a": 0, "000000001": 0} {
		got, ok := parseSegmentName(name)
		if ok != (want != 0) || got != want {
			t.Errorf("parseSegmentName(%q) = %d, %v", name, got, ok)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	f := func(o Options, ok bool) {
		t.Helper()
		if err := o.Validate(); (err == nil) != ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", o, err, ok)
		}
	}
	f(Options{}, true)
	f(Options{SegmentSize: MinSegmentSize, Fsync: FsyncInterval, FsyncInterval: 1}, true)
	f(Options{SegmentSize: -1}, false)
	f(Options{SegmentSize: MinSegmentSize - 1}, false)
	f(Options{Fsync: 7}, false)
	f(Options{FsyncInterval: -1}, false)

	if _, err := Open(t.TempDir(), Options{SegmentSize: 1}); err == nil {
		t.Fatal("Open accepted invalid options")
	}
	d := Options{}.withDefaults()
	if d.SegmentSize != DefaultSegmentSize || d.FsyncInterval != DefaultFsyncInterval || d.Logger == nil || d.Fsync != FsyncAlways {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestRoundTripAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	l := mustOpen(t, dir, testOptions(reg, nil))
	want := records(0, 200, 300) // ~60 KiB in 4 KiB segments
	appendAll(t, l, want)

	first, last, err := l.Segments()
	if err != nil {
		t.Fatal(err)
	}
	if first != 1 || last < 10 {
		t.Fatalf("Segments() = %d, %d; want 1 and at least 10", first, last)
	}
	var onDisk int64
	for i := first; i <= last; i++ {
		fi, err := os.Stat(segPath(dir, i))
		if err != nil {
			t.Fatal(err)
		}
		if i < last && fi.Size() > 4<<10 {
			t.Errorf("segment %d has %d bytes, over the segment size", i, fi.Size())
		}
		onDisk += fi.Size()
	}
	if l.Size() != onDisk {
		t.Errorf("Size() = %d, files hold %d", l.Size(), onDisk)
	}
	if got := metricValue(t, reg, "clew_wal_segments"); got != float64(last) {
		t.Errorf("clew_wal_segments = %v, want %d", got, last)
	}
	if got := metricValue(t, reg, "clew_wal_bytes_written_total"); got != float64(onDisk) {
		t.Errorf("clew_wal_bytes_written_total = %v, want %d", got, onDisk)
	}
	if got := metricValue(t, reg, "clew_wal_fsyncs_total"); got < 1 {
		t.Errorf("clew_wal_fsyncs_total = %v", got)
	}
	mustClose(t, l)

	l = mustOpen(t, dir, testOptions(reg, nil))
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), want)
	if got := metricValue(t, reg, "clew_wal_corruptions_total"); got != 0 {
		t.Errorf("clew_wal_corruptions_total = %v", got)
	}
}

func TestOversizedRecordGetsOwnSegment(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, testOptions(nil, nil))
	want := [][]byte{record(0, 0, 100), record(0, 1, 10<<10), record(0, 2, 100)}
	appendAll(t, l, want)
	mustClose(t, l)
	for i, n := range []int{1, 1, 1} {
		recs, _ := segmentRecords(t, segPath(dir, i+1))
		if len(recs) != n || !bytes.Equal(recs[0], want[i]) {
			t.Fatalf("segment %d: %d records", i+1, len(recs))
		}
	}
	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), want)
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(nil, nil)
	l := mustOpen(t, dir, opts)
	want := records(0, 5, 50)
	appendAll(t, l, want)
	mustClose(t, l)

	// With Replay, appends continue in the last segment.
	l = mustOpen(t, dir, opts)
	equalRecords(t, replayAll(t, l), want)
	more := records(1, 5, 50)
	appendAll(t, l, more)
	if _, last, _ := l.Segments(); last != 1 {
		t.Fatalf("after replay, appends went to segment %d, want 1", last)
	}
	mustClose(t, l)
	want = append(want, more...)

	// Without Replay, appends go to a new segment and Replay is refused.
	l = mustOpen(t, dir, opts)
	more = records(2, 5, 50)
	appendAll(t, l, more)
	if _, last, _ := l.Segments(); last != 2 {
		t.Fatalf("without replay, appends went to segment %d, want 2", last)
	}
	if err := l.Replay(context.Background(), func([]byte) error { return nil }); !errors.Is(err, ErrReplayAfterAppend) {
		t.Fatalf("Replay after Append = %v, want ErrReplayAfterAppend", err)
	}
	mustClose(t, l)
	want = append(want, more...)

	l = mustOpen(t, dir, opts)
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), want)
}

func TestErrClosed(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testOptions(nil, nil))
	mustClose(t, l)
	ctx := context.Background()
	if err := l.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append = %v", err)
	}
	if _, err := l.Cut(); !errors.Is(err, ErrClosed) {
		t.Errorf("Cut = %v", err)
	}
	if err := l.Truncate(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Truncate = %v", err)
	}
	if _, _, err := l.Segments(); !errors.Is(err, ErrClosed) {
		t.Errorf("Segments = %v", err)
	}
	if err := l.Replay(ctx, func([]byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Replay = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestAppendRejectsBadSizes(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testOptions(nil, nil))
	defer mustClose(t, l)
	ctx := context.Background()
	if err := l.Append(ctx, nil); !errors.Is(err, ErrEmptyRecord) {
		t.Errorf("Append(nil) = %v", err)
	}
	if err := l.Append(ctx, make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("Append(too large) = %v", err)
	}
}

func TestMetricsReregister(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	l := mustOpen(t, dir, testOptions(reg, nil))
	if _, err := Open(t.TempDir(), testOptions(reg, nil)); err == nil {
		t.Fatal("second Open with the same registerer succeeded")
	}
	mustClose(t, l)
	// Close unregistered the metrics, so reopening works.
	l = mustOpen(t, dir, testOptions(reg, nil))
	mustClose(t, l)
}

func TestIgnoresForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"checkpoint.00000001", "0000001", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	if first, last, _ := l.Segments(); first != 1 || last != 1 {
		t.Fatalf("Segments() = %d, %d", first, last)
	}
	if got := replayAll(t, l); len(got) != 0 {
		t.Fatalf("replayed %d records from foreign files", len(got))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "notes.txt") {
		t.Fatalf("foreign file removed: %v", names)
	}
}
