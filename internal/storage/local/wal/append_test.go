package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestConcurrentAppend(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncInterval} {
		t.Run(policy.String(), func(t *testing.T) {
			const goroutines, perG = 8, 1000
			dir := t.TempDir()
			opts := testOptions(nil, nil)
			opts.SegmentSize = 64 << 10
			opts.Fsync = policy
			opts.FsyncInterval = time.Millisecond
			l := mustOpen(t, dir, opts)

			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						if err := l.Append(context.Background(), record(g, i, 40+i%200)); err != nil {
							errs <- fmt.Errorf("goroutine %d record %d: %w", g, i, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			mustClose(t, l)

			l = mustOpen(t, dir, opts)
			defer mustClose(t, l)
			next := make([]int, goroutines) // next expected i per goroutine
			for _, rec := range replayAll(t, l) {
				var g, i int
				if _, err := fmt.Sscanf(string(rec), "g%d-i%d:", &g, &i); err != nil {
					t.Fatalf("bad record %q: %v", rec, err)
				}
				if i != next[g] {
					t.Fatalf("goroutine %d: got record %d, want %d (lost, duplicated or reordered)", g, i, next[g])
				}
				if !bytes.Equal(rec, record(g, i, 40+i%200)) {
					t.Fatalf("record %d/%d corrupted", g, i)
				}
				next[g]++
			}
			for g, n := range next {
				if n != perG {
					t.Errorf("goroutine %d: replayed %d records, want %d", g, n, perG)
				}
			}
		})
	}
}

func TestFsyncInterval(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	opts := testOptions(reg, nil)
	opts.Fsync = FsyncInterval
	opts.FsyncInterval = 5 * time.Millisecond
	l := mustOpen(t, dir, opts)
	want := records(0, 100, 100)
	appendAll(t, l, want)

	// The background syncer must get to the records eventually. This
	// waits for an event; it does not assert how long it takes.
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, reg, "clew_wal_fsyncs_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background fsync happened")
		}
		time.Sleep(time.Millisecond)
	}
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), want)
}

func TestAppendContextCancelledBeforeAccept(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, testOptions(nil, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Append(ctx, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append = %v, want context.Canceled", err)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	if got := replayAll(t, l); len(got) != 0 {
		t.Fatalf("cancelled record was written: %q", got)
	}
}

func TestAppendContextCancelledWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	l, err := open(dir, testOptions(nil, nil), hooks{beforeCommit: func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- l.Append(ctx, []byte("pending")) }()
	<-entered // the writer holds the batch and is blocked
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append = %v, want context.Canceled", err)
	}
	close(release)
	mustClose(t, l)

	// The record was accepted before the cancellation, so it is written.
	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), [][]byte{[]byte("pending")})
}

func TestCloseFlushesPending(t *testing.T) {
	dir := t.TempDir()
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	l, err := open(dir, testOptions(nil, nil), hooks{beforeCommit: func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := records(0, 20, 64)
	var wg sync.WaitGroup
	errs := make([]error, len(want))
	wg.Go(func() { errs[0] = l.Append(context.Background(), want[0]) })
	<-entered
	// The others queue up behind the blocked writer.
	for i := 1; i < len(want); i++ {
		wg.Go(func() { errs[i] = l.Append(context.Background(), want[i]) })
	}
	for pending := 0; pending < len(want)-1; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		pending = len(l.cur.ends)
		l.mu.Unlock()
	}
	closed := make(chan error)
	go func() { closed <- l.Close() }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	got := replayAll(t, l)
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
}

func TestCutAndTruncate(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, testOptions(nil, nil))
	before := records(0, 30, 200)
	appendAll(t, l, before)
	n, err := l.Cut()
	if err != nil {
		t.Fatal(err)
	}
	first, last, _ := l.Segments()
	if first != 1 || last != n || n < 2 {
		t.Fatalf("after Cut: Segments() = %d, %d; Cut = %d", first, last, n)
	}
	after := records(1, 30, 200)
	appendAll(t, l, after)

	// Every record appended before Cut lives below n, every later one at or above.
	for i := first; ; i++ {
		recs, _ := segmentRecords(t, segPath(dir, i))
		for _, r := range recs {
			if isBefore := bytes.HasPrefix(r, []byte("g0-")); isBefore != (i < n) {
				t.Fatalf("record %q in segment %d, cut at %d", r, i, n)
			}
		}
		if _, err := os.Stat(segPath(dir, i+1)); err != nil {
			break
		}
	}

	if err := l.Truncate(l.lastSegment() + 1); err == nil {
		t.Fatal("Truncate past the last segment succeeded")
	}
	sizeBefore := l.Size()
	if err := l.Truncate(n); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := l.Segments(); first != n {
		t.Fatalf("after Truncate(%d): first segment %d", n, first)
	}
	if _, err := os.Stat(segPath(dir, n-1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment %d still exists: %v", n-1, err)
	}
	if l.Size() >= sizeBefore {
		t.Fatalf("Size() %d not below %d after Truncate", l.Size(), sizeBefore)
	}
	if err := l.Truncate(1); err != nil { // nothing left to delete
		t.Fatal(err)
	}
	mustClose(t, l)

	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	equalRecords(t, replayAll(t, l), after)
}

func TestCutWithoutReplayStartsNewSegment(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, testOptions(nil, nil))
	appendAll(t, l, records(0, 3, 10))
	mustClose(t, l)

	l = mustOpen(t, dir, testOptions(nil, nil))
	defer mustClose(t, l)
	n, err := l.Cut()
	if err != nil || n != 2 {
		t.Fatalf("Cut() = %d, %v; want 2", n, err)
	}
	n, err = l.Cut()
	if err != nil || n != 3 {
		t.Fatalf("second Cut() = %d, %v; want 3", n, err)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	dir := t.TempDir()
	var once sync.Once
	var l *Log
	l, err := open(dir, testOptions(nil, nil), hooks{beforeCommit: func() {
		// Runs on the writer goroutine, which owns l.seg.
		once.Do(func() { _ = l.seg.f.Close() })
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err1 := l.Append(ctx, []byte("a"))
	if !errors.Is(err1, os.ErrClosed) {
		t.Fatalf("first Append = %v, want a write error", err1)
	}
	if err := l.Append(ctx, []byte("b")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Append = %v, want the sticky error", err)
	}
	if _, err := l.Cut(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Cut = %v, want the sticky error", err)
	}
	_ = l.Close() // closing the already closed file fails; that is fine
}
