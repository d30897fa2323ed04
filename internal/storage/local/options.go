package local

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clew-tracing/clew/internal/storage/local/wal"
)

// Defaults for the zero fields of [Options].
const (
	// DefaultRetention keeps a week of traces: long enough to investigate
	// last week's incident, short enough for a laptop's disk.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultHeadMaxSpans cuts the head at half a million spans, which
	// keeps a level-0 block small enough to write in a second or two.
	DefaultHeadMaxSpans = 500_000
	// DefaultHeadMaxAge cuts the head when its oldest span arrived two
	// minutes ago, so that a quiet store still moves data into compressed
	// blocks and keeps its WAL short.
	DefaultHeadMaxAge = 2 * time.Minute
	// DefaultHeadMaxBytes bounds the head's approximate memory.
	DefaultHeadMaxBytes = 256 << 20
	// DefaultCompactionInterval is how often the compactor and retention run.
	DefaultCompactionInterval = time.Minute
	// DefaultCompactionMaxBlockSpans bounds the size of a compacted block:
	// merging stops once a block would hold more spans than this.
	DefaultCompactionMaxBlockSpans = 4_000_000
)

// minCompactionMaxBlockDuration and maxCompactionMaxBlockDuration clamp the
// default [Options.CompactionMaxBlockDuration], which is a tenth of the
// retention (as in Prometheus TSDB, so that retention deletes data in steps
// of at most 10%).
const (
	minCompactionMaxBlockDuration = time.Hour
	maxCompactionMaxBlockDuration = 31 * 24 * time.Hour
	// foreverCompactionMaxBlockDuration is the default when data is kept
	// forever: a day per block keeps the block count modest.
	foreverCompactionMaxBlockDuration = 24 * time.Hour
)

// Options configures a [DB]. The zero value is valid: every zero field
// takes its default (see [Options.EnsureDefaults]).
type Options struct {
	// Retention is how long a block is kept after its newest span ended.
	// Zero means [DefaultRetention]; a negative value keeps data forever.
	// After EnsureDefaults it is either positive or negative, never zero.
	Retention time.Duration
	// MaxDiskBytes caps the bytes of blocks plus WAL; when it is exceeded
	// the oldest blocks are deleted first. Zero means unlimited.
	MaxDiskBytes int64

	// WALFsync is the WAL's durability policy (default [wal.FsyncAlways]:
	// a write is acknowledged only once it is fsynced).
	WALFsync wal.FsyncPolicy
	// WALFsyncInterval is the period of the background fsync under
	// [wal.FsyncInterval]. Zero means the WAL's default.
	WALFsyncInterval time.Duration
	// WALSegmentSize is the size at which the WAL starts a new segment.
	// Zero means the WAL's default.
	WALSegmentSize int64

	// HeadMaxSpans cuts the head into a block once it holds this many
	// spans. Zero means [DefaultHeadMaxSpans].
	HeadMaxSpans int
	// HeadMaxAge cuts the head once its oldest span arrived this long ago.
	// Zero means [DefaultHeadMaxAge].
	HeadMaxAge time.Duration
	// HeadMaxBytes bounds the approximate memory of the head. Reaching it
	// starts a cut; when it is reached while a cut is already running,
	// Write returns [storage.ErrOverloaded] instead of growing further. At
	// most two heads exist at once (the one being written to and the one
	// being cut), so the engine's span memory stays below about twice this.
	// Zero means [DefaultHeadMaxBytes].
	HeadMaxBytes int64

	// CompactionInterval is how often the compactor and retention run.
	// Zero means [DefaultCompactionInterval].
	CompactionInterval time.Duration
	// CompactionMaxBlockSpans is the most spans a compacted block may
	// hold. Zero means [DefaultCompactionMaxBlockSpans].
	CompactionMaxBlockSpans int
	// CompactionMaxBlockDuration is the longest time range a compacted
	// block may cover. It bounds how late retention can delete a span.
	// Zero means a tenth of Retention, clamped to [1h, 31d], or 24h when
	// data is kept forever.
	CompactionMaxBlockDuration time.Duration

	// Now is the clock. Nil means time.Now. Tests pass a fake clock to
	// drive head age and retention.
	Now func() time.Time
	// Logger receives the engine's logs. Nil means slog.Default.
	Logger *slog.Logger
	// Registerer receives the engine's metrics (clew_storage_*) and those
	// of its WAL (clew_wal_*). Nil means they are not exported. They are
	// unregistered on Close, so a directory can be reopened with the same
	// registerer.
	Registerer prometheus.Registerer
}

// EnsureDefaults sets every zero field to its default. Open calls it on
// its own copy of the options.
func (o *Options) EnsureDefaults() {
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.HeadMaxSpans == 0 {
		o.HeadMaxSpans = DefaultHeadMaxSpans
	}
	if o.HeadMaxAge == 0 {
		o.HeadMaxAge = DefaultHeadMaxAge
	}
	if o.HeadMaxBytes == 0 {
		o.HeadMaxBytes = DefaultHeadMaxBytes
	}
	if o.CompactionInterval == 0 {
		o.CompactionInterval = DefaultCompactionInterval
	}
	if o.CompactionMaxBlockSpans == 0 {
		o.CompactionMaxBlockSpans = DefaultCompactionMaxBlockSpans
	}
	if o.CompactionMaxBlockDuration == 0 {
		if o.Retention < 0 {
			o.CompactionMaxBlockDuration = foreverCompactionMaxBlockDuration
		} else {
			o.CompactionMaxBlockDuration = min(max(o.Retention/10, minCompactionMaxBlockDuration), maxCompactionMaxBlockDuration)
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports every invalid field. Zero values are valid: they mean
// "use the default".
func (o *Options) Validate() error {
	var errs []error
	if o.MaxDiskBytes < 0 {
		errs = append(errs, fmt.Errorf("local: negative MaxDiskBytes %d", o.MaxDiskBytes))
	}
	if o.WALFsync != wal.FsyncAlways && o.WALFsync != wal.FsyncInterval {
		errs = append(errs, fmt.Errorf("local: unknown WALFsync %v", o.WALFsync))
	}
	if o.WALFsyncInterval < 0 {
		errs = append(errs, fmt.Errorf("local: negative WALFsyncInterval %v", o.WALFsyncInterval))
	}
	if o.WALSegmentSize < 0 {
		errs = append(errs, fmt.Errorf("local: negative WALSegmentSize %d", o.WALSegmentSize))
	}
	if o.HeadMaxSpans < 0 {
		errs = append(errs, fmt.Errorf("local: negative HeadMaxSpans %d", o.HeadMaxSpans))
	}
	if o.HeadMaxAge < 0 {
		errs = append(errs, fmt.Errorf("local: negative HeadMaxAge %v", o.HeadMaxAge))
	}
	if o.HeadMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("local: negative HeadMaxBytes %d", o.HeadMaxBytes))
	}
	if o.CompactionInterval < 0 {
		errs = append(errs, fmt.Errorf("local: negative CompactionInterval %v", o.CompactionInterval))
	}
	if o.CompactionMaxBlockSpans < 0 {
		errs = append(errs, fmt.Errorf("local: negative CompactionMaxBlockSpans %d", o.CompactionMaxBlockSpans))
	}
	if o.CompactionMaxBlockDuration < 0 {
		errs = append(errs, fmt.Errorf("local: negative CompactionMaxBlockDuration %v", o.CompactionMaxBlockDuration))
	}
	return errors.Join(errs...)
}

// keepForever reports whether retention by age is off.
func (o *Options) keepForever() bool { return o.Retention < 0 }
