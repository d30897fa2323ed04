// Package block implements the immutable, compressed, columnar on-disk block
// of Clew's embedded storage engine.
//
// A block is a directory named by its [Meta.ID] that holds four files:
// meta.json (what the block covers and the checksums of the other files),
// index (the row-group table with per-column section offsets and per-row-group
// statistics), dict (block-wide dictionaries: symbols, resources, scopes and
// the catalog) and data (row groups of compressed column sections). The byte
// layouts are documented in docs/storage-format.md.
//
// Spans are stored sorted by trace ID and, within a trace, by start time, in
// row groups of about [WriteOptions.RowGroupSpans] spans. Each column of a
// row group is one zstd section, so a search reads only the columns its
// conditions need, and a trace lookup reads one row group (found by binary
// search over the row groups' trace-ID ranges, then over the trace IDs of
// that row group) and materialises only the rows of that trace.
//
// A [Writer] streams spans into a block with memory bounded by the row-group
// size; it writes into <id>.tmp-for-creation and renames the finished
// directory into place, so a crash never leaves a half block under a final
// name. [Open] verifies the small files eagerly and the column sections
// lazily, reporting any mismatch as a [*CorruptionError] so that the caller
// can quarantine the block. Decoders treat every byte as untrusted.
//
// A [Block] is safe for concurrent use by multiple goroutines; a [Writer] is
// not.
package block
