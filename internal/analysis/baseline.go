package analysis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
)

// MinBaselineSamples is how many earlier spans of an operation a baseline
// needs before a span is judged against it: with fewer, a p99 is noise.
const MinBaselineSamples = 20

// BaselineQuery asks for the usual durations of one operation.
type BaselineQuery struct {
	Service, Operation string
	// Range is the lookback window.
	Range storage.TimeRange
	// Exclude is the trace being explained: its own spans must not vouch
	// for themselves.
	Exclude model.TraceID
	// ExcludeDurations are the durations of Exclude's spans of the
	// operation that start in Range, for sources that summarise durations
	// (sketches) and so cannot leave a trace out by its ID.
	ExcludeDurations []time.Duration
}

// Baseline is the distribution of an operation's durations over a
// lookback window.
type Baseline struct {
	// Count is the number of samples.
	Count    int
	P50, P99 time.Duration
	// Sorted holds the samples in ascending order when the source has
	// them, so that a span's rank can be told exactly; it may be nil.
	// Read-only.
	Sorted []time.Duration
	// Sketch, when Sorted is nil, summarises the durations (in
	// nanoseconds) of a baseline read from the backend's operation
	// statistics, so that a span's rank can be estimated; it may be nil.
	// Read-only.
	Sketch *sketch.Sketch
}

// NewSketchBaseline returns the baseline a sketch of durations (in
// nanoseconds) describes; it keeps sk.
func NewSketchBaseline(sk *sketch.Sketch) Baseline {
	return Baseline{
		Count:  int(sk.Count()),
		P50:    time.Duration(sk.Quantile(0.50)),
		P99:    time.Duration(sk.Quantile(0.99)),
		Sketch: sk,
	}
}

// NewBaseline computes a baseline from samples, which it sorts in place
// and keeps.
func NewBaseline(samples []time.Duration) Baseline {
	slices.Sort(samples)
	return Baseline{Count: len(samples), P50: Quantile(samples, 0.50), P99: Quantile(samples, 0.99), Sorted: samples}
}

// Quantile returns the q-quantile of sorted by the nearest-rank method,
// or 0 for no samples.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Percentile returns the share of samples (0-100) faster than d, or -1
// when the baseline kept no samples. From a sketch it is an estimate.
func (b Baseline) Percentile(d time.Duration) float64 {
	if len(b.Sorted) == 0 {
		if b.Sketch != nil && b.Sketch.Count() > 0 {
			return 100 * float64(b.Sketch.CountBelow(float64(d))) / float64(b.Sketch.Count())
		}
		return -1
	}
	n, _ := slices.BinarySearch(b.Sorted, d)
	return 100 * float64(n) / float64(len(b.Sorted))
}

// BaselineSource looks up baselines from stored data. Implementations may
// cache; they must be safe for concurrent use.
type BaselineSource interface {
	Baseline(ctx context.Context, q BaselineQuery) (Baseline, error)
}

// opKey names an operation.
type opKey struct{ svc, name string }

// baselineConcurrency bounds the lookups of one explanation running at once.
const baselineConcurrency = 4

// lookupBaselines fetches the baselines of ops, at most
// baselineConcurrency at a time. A failed lookup leaves its slot with
// Count 0 and is reported in the returned error list (one per operation).
func lookupBaselines(ctx context.Context, src BaselineSource, ops []opKey, r storage.TimeRange, exclude model.TraceID, own map[opKey][]time.Duration) ([]Baseline, []error) {
	out := make([]Baseline, len(ops))
	errs := make([]error, len(ops))
	sem := make(chan struct{}, baselineConcurrency)
	var wg sync.WaitGroup
	for i, op := range ops {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			b, err := src.Baseline(ctx, BaselineQuery{Service: op.svc, Operation: op.name, Range: r, Exclude: exclude, ExcludeDurations: own[op]})
			if err != nil {
				errs[i] = fmt.Errorf("baseline of %s %s: %w", op.svc, op.name, err)
				return
			}
			out[i] = b
		})
	}
	wg.Wait()
	return out, errs
}

// ownDurations returns the durations of the tree's spans that start in r,
// by operation: what a baseline must leave out.
func ownDurations(t *Tree, r storage.TimeRange) map[opKey][]time.Duration {
	out := map[opKey][]time.Duration{}
	for _, nd := range t.Nodes {
		if r.Contains(nd.Span.StartUnixNano) {
			k := opKey{nd.Span.Service(), nd.Span.Name}
			out[k] = append(out[k], time.Duration(nd.Span.Duration()))
		}
	}
	return out
}

// chooseOperations picks at most limit distinct operations to look up, the
// most telling first: the root's, then those on the critical path by
// contribution, then those of the slowest spans.
func chooseOperations(t *Tree, steps []Step, limit int) []opKey {
	seen := map[opKey]bool{}
	var ops []opKey
	add := func(nd *Node) bool {
		k := opKey{nd.Span.Service(), nd.Span.Name}
		if !seen[k] {
			seen[k] = true
			ops = append(ops, k)
		}
		return len(ops) < limit
	}
	if limit <= 0 || t.Root == nil || !add(t.Root) {
		return ops
	}
	byContribution := slices.Clone(steps)
	slices.SortStableFunc(byContribution, func(a, b Step) int {
		switch {
		case a.Contribution > b.Contribution:
			return -1
		case a.Contribution < b.Contribution:
			return 1
		}
		return 0
	})
	for _, s := range byContribution {
		if !add(s.Node) {
			return ops
		}
	}
	slowest := slices.Clone(t.Nodes)
	slices.SortFunc(slowest, func(a, b *Node) int {
		if c := cmp.Compare(b.Duration(), a.Duration()); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	for _, nd := range slowest {
		if !add(nd) {
			break
		}
	}
	return ops
}
