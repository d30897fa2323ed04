package analysis

import (
	"fmt"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// MaxREDBuckets bounds the buckets of one RED series.
const MaxREDBuckets = 1000

// REDBucket is rate, errors and duration over one step.
type REDBucket struct {
	StartUnixNano uint64  `json:"startUnixNano"`
	Count         int     `json:"count"`
	ErrorCount    int     `json:"errorCount"`
	RatePerSecond float64 `json:"ratePerSecond"`
	ErrorRatio    float64 `json:"errorRatio"`
	P50Ns         int64   `json:"p50Ns"`
	P95Ns         int64   `json:"p95Ns"`
	P99Ns         int64   `json:"p99Ns"`
}

// RED accumulates spans into fixed-width time buckets. Not safe for
// concurrent use.
type RED struct {
	start, end uint64
	step       time.Duration
	count      []int
	errors     []int
	durations  [][]time.Duration
}

// NewRED covers [start, end) with buckets of step.
func NewRED(start, end time.Time, step time.Duration) (*RED, error) {
	if step <= 0 || !start.Before(end) {
		return nil, fmt.Errorf("empty window or step")
	}
	n := int((end.Sub(start) + step - 1) / step)
	if n > MaxREDBuckets {
		return nil, fmt.Errorf("window of %s in steps of %s is %d buckets, more than %d", end.Sub(start), step, n, MaxREDBuckets)
	}
	return &RED{
		start: uint64(start.UnixNano()), end: uint64(end.UnixNano()), step: step,
		count: make([]int, n), errors: make([]int, n), durations: make([][]time.Duration, n),
	}, nil
}

// Add counts a span in the bucket of its start; spans outside the window
// are ignored.
func (r *RED) Add(s *model.Span) {
	if s.StartUnixNano < r.start || s.StartUnixNano >= r.end {
		return
	}
	i := int((s.StartUnixNano - r.start) / uint64(r.step))
	r.count[i]++
	if Failed(s) {
		r.errors[i]++
	}
	r.durations[i] = append(r.durations[i], time.Duration(s.Duration()))
}

// Buckets returns the series, empty buckets included.
func (r *RED) Buckets() []REDBucket {
	out := make([]REDBucket, len(r.count))
	for i := range out {
		b := REDBucket{StartUnixNano: r.start + uint64(i)*uint64(r.step), Count: r.count[i], ErrorCount: r.errors[i]}
		b.RatePerSecond = float64(b.Count) / r.step.Seconds()
		if b.Count > 0 {
			b.ErrorRatio = float64(b.ErrorCount) / float64(b.Count)
			bl := NewBaseline(r.durations[i])
			b.P50Ns, b.P99Ns = int64(bl.P50), int64(bl.P99)
			b.P95Ns = int64(Quantile(bl.Sorted, 0.95))
		}
		out[i] = b
	}
	return out
}
