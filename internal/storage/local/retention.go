package local

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// applyRetention deletes whole blocks: those whose newest span ended before
// now minus Retention, then, while blocks plus WAL exceed MaxDiskBytes, the
// oldest remaining ones (by MaxTime). Queries already using a deleted
// block finish with it; it is removed from disk after them.
func (db *DB) applyRetention() {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	now := db.opts.Now()

	db.mu.Lock()
	var byAge, bySize []*blockHandle
	if !db.opts.keepForever() {
		cutoff := uint64(max(now.Add(-db.opts.Retention).UnixNano(), 0))
		for _, h := range db.blocks {
			if h.meta.MaxTime < cutoff {
				byAge = append(byAge, h)
			}
		}
		db.removeBlocksLocked(byAge)
	}
	if limit := db.opts.MaxDiskBytes; limit > 0 {
		total := db.wal.Size()
		for _, h := range db.blocks {
			total += h.meta.Bytes
		}
		oldest := slices.Clone(db.blocks)
		slices.SortFunc(oldest, func(a, b *blockHandle) int {
			return cmp.Or(cmp.Compare(a.meta.MaxTime, b.meta.MaxTime), strings.Compare(a.meta.ID, b.meta.ID))
		})
		for _, h := range oldest {
			if total <= limit {
				break
			}
			bySize = append(bySize, h)
			total -= h.meta.Bytes
		}
		db.removeBlocksLocked(bySize)
		if total > limit && len(bySize) > 0 {
			db.logger.Warn("storage still above MaxDiskBytes after deleting every block; the WAL alone exceeds it",
				"bytes", total, "max_disk_bytes", limit)
		}
	}
	db.mu.Unlock()

	for _, h := range byAge {
		db.dropBlock(h, reasonAge, now)
	}
	for _, h := range bySize {
		db.dropBlock(h, reasonSize, now)
	}
}

// dropBlock deletes a block taken out of the list by retention.
func (db *DB) dropBlock(h *blockHandle, reason string, now time.Time) {
	db.metrics.retentionDeleted.WithLabelValues(reason).Inc()
	db.logger.Info("retention deleted block", "block", h.meta.ID, "reason", reason,
		"max_time", time.Unix(0, int64(h.meta.MaxTime)).UTC(), "age", now.Sub(time.Unix(0, int64(h.meta.MaxTime))),
		"bytes", h.meta.Bytes)
	h.fate.Store(fateDelete)
	h.release()
}
