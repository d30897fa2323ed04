package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
	"github.com/clew-tracing/clew/internal/storage/local/wal"
)

// Subdirectories of the DB's directory.
const (
	walDirName        = "wal"
	blocksDirName     = "blocks"
	quarantineDirName = "quarantine"
)

// DB is Clew's embedded storage engine: a WAL, an in-memory head and
// immutable blocks in one directory. It implements [storage.Backend] and
// [storage.Flusher] and is safe for concurrent use.
type DB struct {
	dir           string
	walDir        string
	blocksDir     string
	quarantineDir string
	opts          Options
	logger        *slog.Logger
	metrics       *metrics
	wal           *wal.Log
	compactor     *Compactor
	encoders      sync.Pool // *recordEncoder

	// lifeMu is held for reading by every public call and for writing by
	// Close, so that Close waits for calls in flight and later calls see
	// closed.
	lifeMu sync.RWMutex
	closed bool

	// appendMu orders WAL appends with head rotation. Write holds it for
	// reading from its WAL append until its spans are in the head; rotate
	// holds it for writing while it swaps the head and cuts the WAL. So
	// every record before the cut is in the rotated head (and goes into
	// its block) and every record after it is in the new head.
	appendMu sync.RWMutex

	// cutMu serialises cuts (the background loop and Flush).
	cutMu sync.Mutex
	// cutPending is set when a cut has been asked for or is running; a
	// full head makes Write refuse work only while it is set.
	cutPending atomic.Bool
	// cutCh wakes the cut loop; capacity one, so a request is never lost.
	cutCh chan struct{}

	// compactMu serialises compaction and retention, the two removers of
	// blocks besides quarantine.
	compactMu sync.Mutex

	// mu guards the fields below; it is held only briefly, never across
	// I/O.
	mu sync.RWMutex
	// head receives writes. It is replaced under both appendMu and mu,
	// so Write may read it holding appendMu alone.
	head *Head
	// flushing is the rotated head being written into a block, nil when
	// none. It stays readable until its block is in the list.
	flushing *Head
	// blocks are the served blocks, sorted by MinTime then ID.
	blocks []*blockHandle
	// blockCatalog is the merged catalog of every block, built lazily
	// and reset whenever the list changes.
	blockCatalog *block.Catalog
	// blocksGen counts changes of blocks, so that a catalog built from an
	// older list is not cached.
	blocksGen uint64
	health    healthState

	cancel context.CancelFunc
	bg     sync.WaitGroup
}

var (
	_ storage.Backend         = (*DB)(nil)
	_ storage.Flusher         = (*DB)(nil)
	_ storage.FullTraceFinder = (*DB)(nil)
)

// Open opens (or creates) the store in dir. It creates dir/wal and
// dir/blocks, removes directories left by interrupted block writes and
// deletions, opens every block (quarantining corrupt ones into
// dir/quarantine and deleting blocks a finished compaction replaced),
// replays the WAL into the head, and starts the background goroutines that
// cut the head, compact blocks and apply retention until Close.
func Open(dir string, opts Options) (_ *DB, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	db := &DB{
		dir:           dir,
		walDir:        filepath.Join(dir, walDirName),
		blocksDir:     filepath.Join(dir, blocksDirName),
		quarantineDir: filepath.Join(dir, quarantineDirName),
		opts:          opts,
		logger:        opts.Logger.With("component", "storage", "dir", dir),
		cutCh:         make(chan struct{}, 1),
		head:          NewHead(),
	}
	db.compactor = NewCompactor(db.blocksDir, opts)
	db.encoders.New = func() any { return newRecordEncoder() }
	for _, d := range []string{dir, db.walDir, db.blocksDir} {
		if err := os.MkdirAll(d, dirPerm); err != nil {
			return nil, fmt.Errorf("local: create %s: %w", d, err)
		}
	}
	if db.metrics, err = newMetrics(opts.Registerer, db); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.metrics.unregister()
			db.releaseAllBlocks()
		}
	}()
	if err := db.openBlocks(); err != nil {
		return nil, err
	}
	db.wal, err = wal.Open(db.walDir, wal.Options{
		SegmentSize:   opts.WALSegmentSize,
		Fsync:         opts.WALFsync,
		FsyncInterval: opts.WALFsyncInterval,
		Logger:        opts.Logger,
		Registerer:    opts.Registerer,
	})
	if err != nil {
		return nil, fmt.Errorf("local: open wal: %w", err)
	}
	if err := db.replayWAL(); err != nil {
		return nil, errors.Join(err, db.wal.Close())
	}

	ctx, cancel := context.WithCancel(context.Background())
	db.cancel = cancel
	db.bg.Add(2)
	go db.runCutLoop(ctx)
	go db.runMaintenanceLoop(ctx)
	return db, nil
}

// openBlocks cleans the blocks directory and opens every block in it.
func (db *DB) openBlocks() error {
	entries, err := os.ReadDir(db.blocksDir)
	if err != nil {
		return fmt.Errorf("local: list blocks: %w", err)
	}
	var opened []*blockHandle
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(db.blocksDir, name)
		if strings.HasSuffix(name, block.TmpSuffix) || strings.HasSuffix(name, deletionSuffix) {
			// NB: an interrupted block write or deletion; the data is
			// still in the WAL or in the blocks it was made from.
			db.logger.Info("removing leftover directory", "path", path)
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("local: remove leftover %s: %w", path, err)
			}
			continue
		}
		if !e.IsDir() {
			continue
		}
		b, err := block.Open(path)
		switch {
		case errors.Is(err, block.ErrUnsupportedVersion):
			// NB: an intact block from a newer Clew. Leave it alone
			// rather than destroy it; report it.
			db.logger.Error("skipping block written by a newer version", "block", name, "err", err)
			db.health.skipped = append(db.health.skipped, name)
			continue
		case err != nil:
			db.logger.Error("corrupt block quarantined at open", "block", name, "quarantine", db.quarantineDir, "err", err)
			if qerr := db.moveToQuarantine(path); qerr != nil {
				return fmt.Errorf("local: quarantine block %s: %w (open: %w)", name, qerr, err)
			}
			db.metrics.quarantined.Inc()
			db.health.quarantined = append(db.health.quarantined, name)
			continue
		}
		opened = append(opened, db.newBlockHandle(b, b.Meta(), path))
	}
	// A compaction that finished its block but crashed before deleting
	// the sources leaves both: the sources' spans are all in the new
	// block, so the sources go.
	replaced := make(map[string]bool)
	for _, h := range opened {
		for _, src := range h.meta.Sources {
			replaced[src] = true
		}
	}
	for _, h := range opened {
		if replaced[h.meta.ID] {
			db.logger.Info("deleting block replaced by a finished compaction", "block", h.meta.ID)
			h.fate.Store(fateDelete)
			h.release()
			continue
		}
		db.blocks = append(db.blocks, h)
	}
	sortBlocks(db.blocks)
	return nil
}

// replayWAL rebuilds the head from the WAL. A record that passed its
// checksum but does not decode is skipped and reported rather than
// failing Open, which would keep the whole store down for one record.
func (db *DB) replayWAL() error {
	start := time.Now()
	now := db.opts.Now()
	var records, bad int
	err := db.wal.Replay(context.Background(), func(rec []byte) error {
		records++
		spans, err := decodeRecord(rec)
		if err != nil {
			bad++
			db.metrics.badRecords.Inc()
			db.logger.Error("skipping undecodable wal record", "err", err)
			return nil
		}
		db.head.append(spans, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("local: replay wal: %w", err)
	}
	if bad > 0 {
		db.health.badRecords = bad
	}
	db.logger.Info("wal replayed", "records", records, "bad_records", bad,
		"spans", db.head.NumSpans(), "blocks", len(db.blocks), "duration", time.Since(start))
	return nil
}

// Write stores spans: it encodes them into a WAL record, appends it
// (returning once the record is durable under the fsync policy), then adds
// the spans to the head. It returns [storage.ErrOverloaded] without writing
// when the head is full while a cut is running. A span that repeats the
// trace ID, span ID, kind and service of one already in the head is
// dropped (a retried export).
func (db *DB) Write(ctx context.Context, spans []*model.Span) error {
	if len(spans) == 0 {
		return nil
	}
	var last storableLast
	for i, s := range spans {
		if s == nil {
			return fmt.Errorf("local: span %d is nil", i)
		}
		if !spanStorable(s, &last) {
			return fmt.Errorf("local: span %s/%s: attribute value of unknown type or nested more than %d deep", s.TraceID, s.SpanID, maxValueDepth)
		}
	}
	db.lifeMu.RLock()
	defer db.lifeMu.RUnlock()
	if db.closed {
		return storage.ErrClosed
	}
	enc := db.encoders.Get().(*recordEncoder)
	defer func() {
		enc.trim()
		db.encoders.Put(enc)
	}()
	chunks, err := enc.chunks(spans, maxRecordBytes)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}

	db.appendMu.RLock()
	defer db.appendMu.RUnlock()
	h := db.head
	if h.Bytes() >= db.opts.HeadMaxBytes {
		if db.cutPending.Load() {
			db.metrics.overloaded.Inc()
			return storage.ErrOverloaded
		}
		db.requestCut()
	}
	for _, c := range chunks {
		if err := db.wal.Append(ctx, c.rec); err != nil {
			return fmt.Errorf("local: append to wal: %w", err)
		}
		h.append(c.spans, db.opts.Now())
	}
	if h.NumSpans() >= db.opts.HeadMaxSpans || h.Bytes() >= db.opts.HeadMaxBytes {
		db.requestCut()
	}
	return nil
}

// Retention returns how long data is kept, or 0 when it is kept forever,
// so that the ingest layer can refuse spans that would be deleted at once.
func (db *DB) Retention() time.Duration {
	if db.opts.keepForever() {
		return 0
	}
	return db.opts.Retention
}

// Close stops the background work, waits for calls in flight, closes the
// WAL (every acknowledged write is already in it) and the blocks, and
// unregisters the metrics. The head is not written into a block: the next
// Open replays it from the WAL. Call Flush first to shorten that replay.
// Later calls return [storage.ErrClosed]; Close itself is idempotent.
func (db *DB) Close() error {
	db.stopBackground()
	db.lifeMu.Lock()
	defer db.lifeMu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	err := db.wal.Close()
	db.releaseAllBlocks()
	db.metrics.unregister()
	return err
}

// stopBackground stops the background goroutines and waits for them. It
// is idempotent. Tests call it to abandon a DB as a crash would.
func (db *DB) stopBackground() {
	if db.cancel != nil {
		db.cancel()
	}
	db.bg.Wait()
}

// releaseAllBlocks drops the list's reference on every block, closing
// those no query uses.
func (db *DB) releaseAllBlocks() {
	db.mu.Lock()
	blocks := db.blocks
	db.blocks = nil
	db.blocksChangedLocked()
	db.mu.Unlock()
	for _, h := range blocks {
		h.fate.Store(fateClose)
		h.release()
	}
}

// headStats returns the spans and bytes of the head and of a head being cut.
func (db *DB) headStats() (s struct{ spans, bytes int64 }) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	for _, h := range []*Head{db.head, db.flushing} {
		if h != nil {
			s.spans += int64(h.NumSpans())
			s.bytes += h.Bytes()
		}
	}
	return s
}

// blockStats returns the number of blocks and their bytes on disk.
func (db *DB) blockStats() (s struct {
	count int
	bytes int64
}) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	s.count = len(db.blocks)
	for _, h := range db.blocks {
		s.bytes += h.meta.Bytes
	}
	return s
}

// diskBytes returns the bytes of the blocks plus the WAL.
func (db *DB) diskBytes() int64 {
	n := db.blockStats().bytes
	if db.wal != nil {
		n += db.wal.Size()
	}
	return n
}

// compareTraceIDs orders trace IDs bytewise, the order blocks are sorted in.
func compareTraceIDs(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) }

// sortedBlocksByMaxTime returns a copy of bs, newest MaxTime first.
func sortedBlocksByMaxTime(bs []*blockHandle) []*blockHandle {
	out := slices.Clone(bs)
	slices.SortFunc(out, func(a, b *blockHandle) int {
		if a.meta.MaxTime != b.meta.MaxTime {
			if a.meta.MaxTime > b.meta.MaxTime {
				return -1
			}
			return 1
		}
		return strings.Compare(b.meta.ID, a.meta.ID)
	})
	return out
}
