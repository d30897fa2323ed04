package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// File permissions of the WAL directory and its segments.
const (
	dirPerm  = 0o755
	filePerm = 0o644
)

// segment is the segment open for writing. Only the writer goroutine
// creates, replaces and writes it; the background syncer only calls Sync,
// under Log.fileMu.
type segment struct {
	f     *os.File
	index int
	size  int64 // bytes in the file, header included
}

// segmentFile describes a segment file found on disk.
type segmentFile struct {
	index int
	size  int64
}

// segmentName returns the file name of the segment with the given index.
func segmentName(index int) string {
	return fmt.Sprintf("%0*d", segmentNameDigits, index)
}

// parseSegmentName returns the index encoded in a segment file name, and
// false for any other name (so that other files in the directory, such as
// a future checkpoint, are left alone).
func parseSegmentName(name string) (int, bool) {
	if len(name) != segmentNameDigits {
		return 0, false
	}
	for _, c := range []byte(name) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(name)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// listSegments returns the segment files in dir, ascending by index.
func listSegments(dir string) ([]segmentFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments: %w", err)
	}
	var segs []segmentFile
	for _, e := range entries {
		idx, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("wal: stat segment %s: %w", e.Name(), err)
		}
		segs = append(segs, segmentFile{index: idx, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segmentFile) int { return a.index - b.index })
	return segs, nil
}

// createSegment creates the segment file with the given index, writes its
// header and makes both the file and its directory entry durable, so that a
// crash never leaves records behind a header that is not on disk.
func createSegment(dir string, index int) (_ *os.File, err error) {
	if index > maxSegmentIndex {
		return nil, fmt.Errorf("wal: create segment %d: %w", index, errSegmentsLimit)
	}
	path := filepath.Join(dir, segmentName(index))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, filePerm)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment %d: %w", index, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.Close(), os.Remove(path))
		}
	}()
	h := segmentHeader()
	if _, err := f.Write(h[:]); err != nil {
		return nil, fmt.Errorf("wal: write header of segment %d: %w", index, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("wal: sync segment %d: %w", index, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return f, nil
}

// openSegmentForAppend opens an existing segment, which Replay has just
// validated, for writing at its end.
func openSegmentForAppend(dir string, index int) (*os.File, int64, error) {
	f, err := os.OpenFile(filepath.Join(dir, segmentName(index)), os.O_WRONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("wal: open segment %d: %w", index, err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, errors.Join(fmt.Errorf("wal: seek segment %d: %w", index, err), f.Close())
	}
	return f, size, nil
}

// syncDir fsyncs a directory so that created, truncated or removed entries
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return nil
}
