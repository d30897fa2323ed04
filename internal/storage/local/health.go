package local

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// healthState is what Health reports. It is guarded by DB.mu.
type healthState struct {
	// quarantined are the IDs of blocks moved into quarantine since Open.
	quarantined []string
	// skipped are blocks of an unsupported (newer) format left in place.
	skipped []string
	// badRecords is the number of WAL records skipped at replay.
	badRecords int
	// cutErr and compactErr are the last errors of the background jobs,
	// cleared by their next success.
	cutErr     error
	compactErr error
}

// setHealthErr sets one of the background-job errors (nil clears it).
func (db *DB) setHealthErr(slot *error, err error) {
	db.mu.Lock()
	*slot = err
	db.mu.Unlock()
}

// Health reports why the store is degraded, or nil when it is healthy. A
// degraded store still serves what it has: the error lists quarantined or
// skipped blocks, WAL records lost at replay and the last error of each
// background job (cut, compaction) until it next succeeds. It is
// meant for a readiness endpoint's detail.
func (db *DB) Health() error {
	db.mu.RLock()
	h := db.health
	h.quarantined = slices.Clone(h.quarantined)
	h.skipped = slices.Clone(h.skipped)
	db.mu.RUnlock()

	var errs []error
	if len(h.quarantined) > 0 {
		errs = append(errs, fmt.Errorf("%d corrupt block(s) quarantined in %s: %s",
			len(h.quarantined), db.quarantineDir, strings.Join(h.quarantined, ", ")))
	}
	if len(h.skipped) > 0 {
		errs = append(errs, fmt.Errorf("%d block(s) of a newer format not served: %s",
			len(h.skipped), strings.Join(h.skipped, ", ")))
	}
	if h.badRecords > 0 {
		errs = append(errs, fmt.Errorf("%d undecodable wal record(s) skipped at replay", h.badRecords))
	}
	if h.cutErr != nil {
		errs = append(errs, fmt.Errorf("cutting the head into a block: %w", h.cutErr))
	}
	if h.compactErr != nil {
		errs = append(errs, fmt.Errorf("compaction: %w", h.compactErr))
	}
	return errors.Join(errs...)
}

// Quarantined returns the IDs of the blocks quarantined since Open.
func (db *DB) Quarantined() []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return slices.Clone(db.health.quarantined)
}
