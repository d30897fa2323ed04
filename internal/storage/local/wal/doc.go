// Package wal is the write-ahead log of Clew's embedded storage engine.
//
// The head appends every batch of spans to a [Log] before it acknowledges
// the write, and replays the log after a restart to rebuild what had not yet
// reached a block. A Log is a directory of numbered segment files; each
// segment holds length- and CRC-framed records. The byte layout is
// documented in docs/format/wal.md.
//
// # Group commit
//
// [Log.Append] copies the record into a shared pending batch under a short
// lock and hands it to a single writer goroutine. The writer takes the whole
// batch, writes it with one write(2) call (split only at a segment boundary),
// fsyncs once and wakes every appender of that batch. While one batch is on
// its way to disk the next one fills up, so the cost of an fsync is shared by
// all concurrent appenders. With [FsyncInterval] the writer skips the fsync
// and a background goroutine syncs the active segment periodically.
//
// # Lifecycle
//
//	l, err := wal.Open(dir, opts)  // lists segments; does not read them
//	err = l.Replay(ctx, fn)        // optional, and only before the first Append
//	err = l.Append(ctx, rec)       // from any goroutine
//	n, err := l.Cut()              // before the head is persisted as a block
//	err = l.Truncate(n)            // after the block is safely on disk
//	err = l.Close()
//
// Replay repairs what a crash leaves behind: a torn or corrupt record ends
// its segment, the segment is truncated there, and replay carries on with the
// next segment so that later good records are never lost.
//
// After a failed write or fsync the Log stops accepting records and returns
// the error from every later Append: the state of the file is unknown (see
// "fsyncgate"), so the only safe continuation is to reopen the directory and
// Replay, which truncates any torn tail.
package wal
