package wal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchPayload returns a random payload of n bytes from a fixed seed, so
// that runs are comparable.
func benchPayload(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// BenchmarkAppend measures Append throughput for typical record sizes
// (a batch of spans is 1–100 KiB), one appender at a time and many at
// once, under both fsync policies.
func BenchmarkAppend(b *testing.B) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncInterval} {
		for _, size := range []int{1 << 10, 16 << 10, 100 << 10} {
			rec := benchPayload(size)
			name := fmt.Sprintf("fsync=%v/size=%dKiB", policy, size>>10)
			b.Run(name+"/serial", func(b *testing.B) {
				l := benchLog(b, policy)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := l.Append(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				mustClose(b, l)
			})
			b.Run(name+"/parallel", func(b *testing.B) {
				l := benchLog(b, policy)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.SetParallelism(8) // many more appenders than fsyncs
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := l.Append(context.Background(), rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				mustClose(b, l)
			})
		}
	}
}

// benchLog opens a log in a temporary directory with default segment size.
func benchLog(b *testing.B, policy FsyncPolicy) *Log {
	opts := testOptions(nil, nil)
	opts.SegmentSize = 0
	opts.Fsync = policy
	return mustOpen(b, b.TempDir(), opts)
}

// BenchmarkReplay measures replay throughput of 16 KiB records.
func BenchmarkReplay(b *testing.B) {
	const size, n = 16 << 10, 2000
	dir := b.TempDir()
	opts := testOptions(nil, nil)
	opts.SegmentSize = 0
	opts.Fsync = FsyncInterval
	l := mustOpen(b, dir, opts)
	rec := benchPayload(size)
	for range n {
		if err := l.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	mustClose(b, l)
	b.SetBytes(size * n)
	b.ReportAllocs()
	for b.Loop() {
		l := mustOpen(b, dir, opts)
		if err := l.Replay(context.Background(), func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
		mustClose(b, l)
	}
}
