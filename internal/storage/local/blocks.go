package local

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// deletionSuffix marks a block directory that is being deleted. A block is
// renamed to it first (atomically), so that a crash during the recursive
// delete leaves a directory Open removes rather than a half block it would
// have to quarantine.
const deletionSuffix = ".tmp-for-deletion"

// What happens to a block when its last reference is released.
const (
	fateClose      int32 = iota // close it (the DB is closing)
	fateDelete                  // close and delete it (compacted or expired)
	fateQuarantine              // close and move it into the quarantine directory
)

// blockHandle is a block served by the DB, with a reference count so that a
// block removed from the list (by compaction, retention or quarantine) is
// closed only once the last query using it is done.
//
// The list itself holds one reference. Queries acquire a reference while
// they hold DB.mu for reading and the handle is in the list, so the count
// never rises from zero.
type blockHandle struct {
	db   *DB
	meta block.Meta
	dir  string
	b    *block.Block
	refs atomic.Int64
	fate atomic.Int32

	// statsMu guards stats, the block's per-minute operation statistics,
	// loaded on first use (see [blockHandle.statsOf]).
	statsMu sync.Mutex
	stats   opStats
	// edges are the block's per-minute edge statistics, loaded with
	// statsMu held on first use (see [blockHandle.edgesOf]).
	edges edgeStats
}

// newBlockHandle wraps an open block; the handle starts with the list's
// reference.
func (db *DB) newBlockHandle(b *block.Block, meta block.Meta, dir string) *blockHandle {
	h := &blockHandle{db: db, meta: meta, dir: dir, b: b}
	h.refs.Store(1)
	return h
}

// acquire takes a reference. DB.mu must be held and h must be in the list.
func (h *blockHandle) acquire() { h.refs.Add(1) }

// release drops a reference; the last one carries out the handle's fate.
func (h *blockHandle) release() {
	switch n := h.refs.Add(-1); {
	case n == 0:
		h.finalize()
	case n < 0:
		panic(fmt.Sprintf("BUG: block %s released more often than acquired", h.meta.ID))
	}
}

// finalize closes the block and deletes or quarantines its directory as
// its fate says. Errors are logged: there is no caller to return them to,
// and a leftover directory is cleaned up by the next Open.
func (h *blockHandle) finalize() {
	db := h.db
	h.b.Close()
	switch h.fate.Load() {
	case fateDelete:
		if err := removeBlockDir(h.dir); err != nil {
			db.logger.Error("delete block", "block", h.meta.ID, "err", err)
		}
	case fateQuarantine:
		if err := db.moveToQuarantine(h.dir); err != nil {
			db.logger.Error("quarantine block", "block", h.meta.ID, "err", err)
		}
	}
}

// removeBlockDir deletes a block directory crash-safely: rename, then
// remove recursively.
func removeBlockDir(dir string) error {
	tmp := dir + deletionSuffix
	if err := os.Rename(dir, tmp); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("rename %s for deletion: %w", dir, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove %s: %w", tmp, err)
	}
	return nil
}

// moveToQuarantine moves a block directory into the quarantine directory,
// keeping its name (with a numeric suffix if a block of that name was
// quarantined before), so that an operator can inspect it.
func (db *DB) moveToQuarantine(dir string) error {
	if err := os.MkdirAll(db.quarantineDir, dirPerm); err != nil {
		return fmt.Errorf("create quarantine dir: %w", err)
	}
	base := filepath.Base(dir)
	dst := filepath.Join(db.quarantineDir, base)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(db.quarantineDir, fmt.Sprintf("%s.%d", base, i))
	}
	if err := os.Rename(dir, dst); err != nil {
		return fmt.Errorf("move %s to quarantine: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}

// quarantine removes a block that failed a read from the list, records it
// for Health and moves it into quarantine once no query uses it. Queries
// carry on without it. It is a no-op if the block was already removed.
func (db *DB) quarantine(h *blockHandle, cause error) {
	db.mu.Lock()
	i := slices.Index(db.blocks, h)
	if i < 0 {
		db.mu.Unlock()
		return
	}
	db.blocks = slices.Delete(db.blocks, i, i+1)
	db.blocksChangedLocked()
	db.health.quarantined = append(db.health.quarantined, h.meta.ID)
	db.mu.Unlock()

	db.metrics.quarantined.Inc()
	db.logger.Error("corrupt block quarantined; queries continue without it",
		"block", h.meta.ID, "quarantine", db.quarantineDir, "err", cause)
	h.fate.Store(fateQuarantine)
	h.release()
}

// blockErr handles an error from a block read: a corruption quarantines the
// block and is swallowed, so that the query proceeds with the rest; any
// other error is returned.
func (db *DB) blockErr(h *blockHandle, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*block.CorruptionError](err); ok {
		db.quarantine(h, err)
		return nil
	}
	return fmt.Errorf("block %s: %w", h.meta.ID, err)
}

// sortBlocks orders blocks by MinTime, then ID: the order compaction plans
// in.
func sortBlocks(bs []*blockHandle) {
	slices.SortFunc(bs, func(a, b *blockHandle) int {
		if c := cmp.Compare(a.meta.MinTime, b.meta.MinTime); c != 0 {
			return c
		}
		return strings.Compare(a.meta.ID, b.meta.ID)
	})
}

// addBlock puts an opened block into the list. DB.mu must be held.
func (db *DB) addBlockLocked(h *blockHandle) {
	db.blocks = append(db.blocks, h)
	sortBlocks(db.blocks)
	db.blocksChangedLocked()
}

// removeBlocksLocked takes blocks out of the list and returns those that
// were in it. DB.mu must be held.
func (db *DB) removeBlocksLocked(hs []*blockHandle) []*blockHandle {
	var removed []*blockHandle
	db.blocks = slices.DeleteFunc(db.blocks, func(b *blockHandle) bool {
		if slices.Contains(hs, b) {
			removed = append(removed, b)
			return true
		}
		return false
	})
	if len(removed) > 0 {
		db.blocksChangedLocked()
	}
	return removed
}

// blocksChangedLocked notes a change of the block list: the cached catalog
// is stale. DB.mu must be held for writing.
func (db *DB) blocksChangedLocked() {
	db.blocksGen++
	db.blockCatalog = nil
}

// syncDir fsyncs a directory so that renames and removals in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// dirPerm is the permission of directories the DB creates.
const dirPerm = 0o755
