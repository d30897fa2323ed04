// Package local is Clew's embedded storage engine, the default backend: one
// directory on disk holding a write-ahead log, an in-memory head and
// immutable columnar blocks, orchestrated like Prometheus TSDB.
//
// # Layout
//
//	dir/wal/         WAL segments (package wal); records are batches of spans
//	                 encoded as in docs/format/wal-record.md
//	dir/blocks/<id>/ immutable blocks (package block)
//	dir/quarantine/  corrupt blocks set aside for inspection
//
// # Write path
//
// [DB.Write] encodes a batch into one WAL record (resources and scopes are
// stored once per record), appends it (the WAL commits concurrent appends
// with one fsync) and, once it is durable, adds the spans to the [Head]. The
// head indexes spans by trace ID and service and keeps a bounded catalog.
//
// # Cut
//
// When the head reaches Options.HeadMaxSpans, Options.HeadMaxBytes or
// Options.HeadMaxAge (or on [DB.Flush]), a new empty head is swapped in and
// the WAL is cut, under a lock that orders the swap with appends; the old
// head stays readable while it is written into a level-0 block. Once the
// block is on disk and served, the WAL segments before the cut are
// deleted. A crash at any point leaves the spans either in the WAL, in a
// block, or in both; reads merge by (trace ID, span ID, kind, service), so both
// is harmless. Kind and service are part of a span's identity because Zipkin's
// shared spans give the client and server halves of one RPC the same span ID.
// While a cut runs and the new head is full, Write returns
// storage.ErrOverloaded rather than grow without bound.
//
// # Reads
//
// Every read takes a snapshot: the heads and the blocks, each block with a
// reference so that compaction, retention or quarantine never closes a
// block under a running query. [Head] and [block.Block] implement one small
// read interface, so the query code treats them alike. A trace lookup asks
// every part; a block answers from its bloom filter of trace IDs in a few
// nanoseconds when it does not hold the trace, and from its own index when
// it may. A search asks the heads and then the blocks in order of the best
// hit each can hold (its newest trace start, then its smallest trace ID:
// the search order), passing each the limit-th hit found so far, so that a
// block skips the row groups and traces that cannot improve the result and
// the search stops at the first block that cannot. [DB.FindTracesFull]
// then fetches each trace found once, asking each block for all of them at
// once so that a row group holding several is decoded once.
//
// # Operation statistics
//
// The head also keeps, per (service, span name, kind, minute of start),
// the calls, errors and a latency sketch, updated on append under its lock
// (so WAL replay rebuilds them). A cut writes them into the block as the
// extra file "stats"; a compaction recomputes them from the deduplicated
// spans it writes; a block without the file has them computed once from
// its spans and kept in memory. [DB.OperationStats] merges the heads' and
// the overlapping blocks' cells. Unlike trace reads it cannot deduplicate
// across parts: a span both in a block and replayed into the head after a
// crash counts twice until compaction merges them.
//
// # Compaction and retention
//
// A [Compactor] plans merges of the blocks that end in the same completed
// time window (15 minutes, then 1 hour, 4 hours, ... up to
// Options.CompactionMaxBlockDuration) and writes them with a k-way merge
// by trace ID, so that a trace cut into several blocks ends up in one. The
// new block names its sources in its meta; Open deletes sources a finished
// compaction left behind. Retention deletes whole blocks older than
// Options.Retention, then the oldest blocks while the store exceeds
// Options.MaxDiskBytes.
//
// # Corruption
//
// A block that fails to open, or reports a [block.CorruptionError] during a
// read, is moved into dir/quarantine, logged and counted
// (clew_storage_quarantined_blocks_total); queries continue with the rest
// and [DB.Health] reports it.
//
// A DB is safe for concurrent use. Two DBs must not share a directory.
package local
