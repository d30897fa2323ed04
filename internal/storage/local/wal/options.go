package wal

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FsyncPolicy says when appended records are made durable.
type FsyncPolicy int

const (
	// FsyncAlways makes Append return only after its record is fsynced.
	// Concurrent appenders share one fsync (group commit). It is the
	// default because the head acknowledges writes only once they survive
	// a crash.
	FsyncAlways FsyncPolicy = iota
	// FsyncInterval makes Append return after write(2); a background
	// goroutine fsyncs every [Options.FsyncInterval]. A machine crash can
	// lose up to one interval of acknowledged records, a process crash
	// cannot.
	FsyncInterval
)

// String returns the policy's name for logs and flags.
func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncInterval:
		return "interval"
	default:
		return fmt.Sprintf("FsyncPolicy(%d)", int(p))
	}
}

// Options configures a [Log]. The zero value is valid: every zero field
// takes its default.
type Options struct {
	// SegmentSize is the size at which a new segment is started: a batch
	// of records that would make the current segment exceed it goes to a
	// new one. A record larger than SegmentSize gets a segment of its own.
	// Zero means [DefaultSegmentSize]; otherwise at least [MinSegmentSize].
	SegmentSize int64
	// Fsync is the durability policy; the default is [FsyncAlways].
	Fsync FsyncPolicy
	// FsyncInterval is the period of the background fsync under
	// [FsyncInterval]. Zero means [DefaultFsyncInterval].
	FsyncInterval time.Duration
	// Logger receives warnings about repaired corruption and I/O errors.
	// Nil means [slog.Default].
	Logger *slog.Logger
	// Registerer receives the Log's metrics (clew_wal_*). Nil means the
	// metrics are kept but not exported. The metrics are unregistered on
	// Close, so a directory can be reopened with the same registerer; two
	// Logs open at once need registerers wrapped with distinct labels.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field. Zero values are valid and mean
// "use the default".
func (o *Options) Validate() error {
	switch {
	case o.SegmentSize < 0:
		return fmt.Errorf("wal: negative SegmentSize %d", o.SegmentSize)
	case o.SegmentSize != 0 && o.SegmentSize < MinSegmentSize:
		return fmt.Errorf("wal: SegmentSize %d below minimum %d", o.SegmentSize, MinSegmentSize)
	case o.Fsync != FsyncAlways && o.Fsync != FsyncInterval:
		return fmt.Errorf("wal: unknown Fsync policy %v", o.Fsync)
	case o.FsyncInterval < 0:
		return fmt.Errorf("wal: negative FsyncInterval %v", o.FsyncInterval)
	}
	return nil
}

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.FsyncInterval == 0 {
		o.FsyncInterval = DefaultFsyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
