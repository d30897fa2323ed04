package clew

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
)

// Defaults of [BaselineOptions].
const (
	DefaultBaselineTraces     = 200
	DefaultBaselineTTL        = time.Minute
	DefaultBaselineMaxSamples = 5000
	DefaultBaselineMaxEntries = 10_000
)

// BaselineOptions configures [Baselines]. The zero value is usable.
type BaselineOptions struct {
	// Traces bounds the traces read per operation (the newest that have
	// a span of it); 0 means DefaultBaselineTraces.
	Traces int
	// TTL is how long an operation's samples are reused; 0 means
	// DefaultBaselineTTL.
	TTL time.Duration
	// MaxSamples bounds the durations kept per operation; 0 means
	// DefaultBaselineMaxSamples.
	MaxSamples int
	// MaxEntries bounds the operations cached at once; 0 means
	// DefaultBaselineMaxEntries.
	MaxEntries int
	// Now is the cache's clock; nil means the query service's.
	Now func() time.Time
}

// Baselines is an [analysis.BaselineSource] over the query layer. When
// the backend keeps operation statistics ([query.Service.OperationStats])
// a baseline is the merged latency sketch of every span of the operation
// in the window, as one bucket: its count, p50 and p99 come from the
// sketch. The sketch cannot leave a trace out by its ID, so the spans of
// the trace being explained are taken back out by their durations
// (BaselineQuery.ExcludeDurations) when the caller gives them; a caller
// that does not excludes nothing, which matters only for operations with
// few calls.
// Otherwise it is a sample: the durations of the operation's spans in the
// newest Traces traces of the window that have one (so a busy
// operation's baseline covers only its most recent stretch), minus the
// spans of the trace being explained. Either is cached per operation and
// window length for TTL, and concurrent lookups of one operation share
// one fetch. Safe for concurrent use.
type Baselines struct {
	q    *query.Service
	opts BaselineOptions

	mu    sync.Mutex
	cache map[baselineKey]*baselineEntry
}

type baselineKey struct {
	service, operation string
	window             uint64
}

// fetchTimeout bounds one operation's fetch.
const fetchTimeout = 30 * time.Second

// baselineEntry is one cached fetch; done is closed when it has finished.
// fetched is zero while the fetch runs; every field is guarded by
// Baselines.mu until done is closed and read-only after.
type baselineEntry struct {
	done    chan struct{}
	fetched time.Time
	samples []sample // sorted by duration
	// stats, when set, is the baseline from the operation statistics;
	// samples is then unused.
	stats *analysis.Baseline
	err   error
}

// expired reports whether a finished entry is older than ttl; an entry
// still being fetched is never expired.
func (e *baselineEntry) expired(now time.Time, ttl time.Duration) bool {
	return !e.fetched.IsZero() && now.Sub(e.fetched) >= ttl
}

type sample struct {
	trace model.TraceID
	d     time.Duration
}

// NewBaselines returns a source reading from q.
func NewBaselines(q *query.Service, opts BaselineOptions) *Baselines {
	if opts.Traces <= 0 {
		opts.Traces = DefaultBaselineTraces
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultBaselineTTL
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = DefaultBaselineMaxSamples
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultBaselineMaxEntries
	}
	if opts.Now == nil {
		opts.Now = q.Now
	}
	return &Baselines{q: q, opts: opts, cache: map[baselineKey]*baselineEntry{}}
}

// Baseline implements [analysis.BaselineSource].
func (b *Baselines) Baseline(ctx context.Context, bq analysis.BaselineQuery) (analysis.Baseline, error) {
	k := baselineKey{bq.Service, bq.Operation, bq.Range.End - bq.Range.Start}
	now := b.opts.Now()
	b.mu.Lock()
	e := b.cache[k]
	if e == nil || e.expired(now, b.opts.TTL) {
		b.evictLocked(now)
		e = &baselineEntry{done: make(chan struct{})}
		b.cache[k] = e
		// The fetch is shared by every caller that waits for it, so it must
		// not die with the first caller's request.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		go func() {
			defer cancel()
			var (
				samples []sample
				stats   *analysis.Baseline
				err     error
			)
			if b.q.HasOperationStats() {
				stats, err = b.fetchStats(fctx, bq)
			} else {
				samples, err = b.fetch(fctx, bq)
			}
			b.mu.Lock()
			e.samples, e.stats, e.err, e.fetched = samples, stats, err, now
			if err != nil && b.cache[k] == e {
				delete(b.cache, k) // errors are not cached
			}
			b.mu.Unlock()
			close(e.done)
		}()
	}
	b.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return analysis.Baseline{}, ctx.Err()
	}
	if e.err != nil {
		return analysis.Baseline{}, e.err
	}
	if e.stats != nil {
		if len(bq.ExcludeDurations) == 0 || e.stats.Sketch == nil {
			return *e.stats, nil
		}
		sk := e.stats.Sketch.Clone()
		for _, d := range bq.ExcludeDurations {
			sk.Remove(float64(d))
		}
		return analysis.NewSketchBaseline(sk), nil
	}
	ds := make([]time.Duration, 0, len(e.samples))
	for _, s := range e.samples {
		if s.trace != bq.Exclude {
			ds = append(ds, s.d)
		}
	}
	return analysis.NewBaseline(ds), nil
}

// evictLocked makes room: expired entries go first, then, if the cache is
// still full, every finished entry.
func (b *Baselines) evictLocked(now time.Time) {
	if len(b.cache) < b.opts.MaxEntries {
		return
	}
	for k, e := range b.cache {
		if e.expired(now, b.opts.TTL) {
			delete(b.cache, k)
		}
	}
	if len(b.cache) < b.opts.MaxEntries {
		return
	}
	for k, e := range b.cache {
		if !e.fetched.IsZero() {
			delete(b.cache, k)
		}
	}
}

// fetchStats merges the operation's latency sketches over the window (of
// every span kind).
func (b *Baselines) fetchStats(ctx context.Context, bq analysis.BaselineQuery) (*analysis.Baseline, error) {
	ctx = query.WithEndpoint(ctx, "clew_baseline")
	stats, err := b.q.OperationStats(ctx, storage.StatsQuery{Service: bq.Service, Operation: bq.Operation, Range: bq.Range})
	if err != nil {
		return nil, fmt.Errorf("statistics of %s %s: %w", bq.Service, bq.Operation, err)
	}
	sk := &sketch.Sketch{}
	for i := range stats {
		for j := range stats[i].Buckets {
			sk.Merge(&stats[i].Buckets[j].Latency)
		}
	}
	bl := analysis.NewSketchBaseline(sk)
	return &bl, nil
}

// fetch reads the operation's spans from the newest traces of the window.
func (b *Baselines) fetch(ctx context.Context, bq analysis.BaselineQuery) ([]sample, error) {
	ctx = query.WithEndpoint(ctx, "clew_baseline")
	traces, err := b.q.FindTracesFull(ctx, &query.Search{Query: storage.Query{
		Range: bq.Range,
		Conditions: []storage.Condition{
			{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue(bq.Service)},
			{Field: storage.FieldName, Op: storage.OpEqual, Value: model.StringValue(bq.Operation)},
		},
		Limit: b.opts.Traces,
	}})
	if err != nil {
		return nil, fmt.Errorf("sample %s %s: %w", bq.Service, bq.Operation, err)
	}
	var out []sample
	for _, t := range traces {
		for _, s := range t.Spans {
			if s.Service() != bq.Service || s.Name != bq.Operation || !bq.Range.Contains(s.StartUnixNano) {
				continue
			}
			out = append(out, sample{trace: t.ID, d: time.Duration(s.Duration())})
			if len(out) >= b.opts.MaxSamples {
				break
			}
		}
		if len(out) >= b.opts.MaxSamples {
			break
		}
	}
	slices.SortFunc(out, func(x, y sample) int {
		switch {
		case x.d < y.d:
			return -1
		case x.d > y.d:
			return 1
		}
		return 0
	})
	return out, nil
}
