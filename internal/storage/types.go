package storage

import (
	"cmp"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
)

// TimeRange is a closed interval of Unix nanoseconds. A zero Start or End
// leaves that side open.
type TimeRange struct {
	Start, End uint64
}

// IsZero reports whether the range is open on both sides.
func (r TimeRange) IsZero() bool { return r.Start == 0 && r.End == 0 }

// Contains reports whether t lies in the range.
func (r TimeRange) Contains(t uint64) bool {
	return (r.Start == 0 || t >= r.Start) && (r.End == 0 || t <= r.End)
}

// Overlaps reports whether [min, max] shares a point with the range.
func (r TimeRange) Overlaps(min, max uint64) bool {
	return (r.Start == 0 || max >= r.Start) && (r.End == 0 || min <= r.End)
}

// TraceSummary describes one trace found by a search.
type TraceSummary struct {
	TraceID model.TraceID
	// RootService and RootName come from the root span; when the root has
	// not arrived they come from the earliest span and Root is false.
	RootService   string
	RootName      string
	HasRoot       bool
	StartUnixNano uint64
	EndUnixNano   uint64
	SpanCount     int
	ErrorCount    int
	// Services lists each service with its span counts, in first-seen order by start time.
	Services []ServiceStat
}

// DurationNano returns the trace's wall-clock length.
func (s *TraceSummary) DurationNano() uint64 {
	if s.EndUnixNano < s.StartUnixNano {
		return 0
	}
	return s.EndUnixNano - s.StartUnixNano
}

// ServiceStat counts one service's spans in a trace.
type ServiceStat struct {
	Name       string
	SpanCount  int
	ErrorCount int
}

// OperationQuery selects operations.
type OperationQuery struct {
	Service string
	// Kind, when set (HasKind), keeps only operations of that span kind.
	Kind    model.SpanKind
	HasKind bool
}

// Operation is a span name used by a service, with its kind.
type Operation struct {
	Service string
	Name    string
	Kind    model.SpanKind
}

// AttributeQuery selects attribute names or values for autocomplete.
type AttributeQuery struct {
	Scope AttrScope
	// Name is the attribute whose values are wanted (AttributeValues only).
	Name  string
	Range TimeRange
	Limit int
}

// AttributeName is one attribute key and the scope it was seen in.
type AttributeName struct {
	Scope AttrScope
	Name  string
}

// Dependency is a caller→callee edge between two services.
type Dependency struct {
	Parent     string
	Child      string
	CallCount  uint64
	ErrorCount uint64
}

// StatsResolution is the coarsest resolution at which a StatsReader may
// keep statistics: a query whose Range.Start and Step are whole multiples
// of it gets exact buckets from every backend.
const StatsResolution = time.Minute

// StatsQuery selects the operation statistics StatsReader.OperationStats
// returns.
type StatsQuery struct {
	// Service and Operation (a span name) filter exactly; empty matches all.
	Service, Operation string
	// Range selects spans by start time.
	Range TimeRange
	// Step is the bucket width; 0 means one bucket for the whole range.
	Step time.Duration
}

// OperationStats holds the statistics of one (service, span name, kind).
type OperationStats struct {
	Service   string
	Operation string
	Kind      model.SpanKind
	// Buckets are sorted by start; only buckets with calls appear.
	Buckets []StatsBucket
}

// StatsBucket holds the statistics of the spans starting in one bucket.
type StatsBucket struct {
	// StartUnixNano is the bucket's start: Range.Start plus a multiple
	// of Step.
	StartUnixNano uint64
	// Calls counts spans; Errors counts those with status error.
	Calls, Errors uint64
	// Latency summarises span durations in nanoseconds.
	Latency sketch.Sketch
}

// BucketStart returns the start of the bucket of q that holds t.
func (q StatsQuery) BucketStart(t uint64) uint64 {
	if q.Step <= 0 || t < q.Range.Start {
		return q.Range.Start
	}
	step := uint64(q.Step)
	return q.Range.Start + (t-q.Range.Start)/step*step
}

// StatsBuilder accumulates spans or partial buckets into the result of a
// StatsQuery. The zero value is not usable; use NewStatsBuilder. It is not
// safe for concurrent use.
type StatsBuilder struct {
	q   StatsQuery
	ops seriesBuckets[statsOp]
}

type statsOp struct {
	service, name string
	kind          model.SpanKind
}

// seriesBuckets holds the buckets of many series (operations, edges) by
// their start.
type seriesBuckets[K comparable] map[K]map[uint64]*StatsBucket

// bucket returns the bucket of series k holding time t under q, creating
// it when needed.
func (sb seriesBuckets[K]) bucket(q StatsQuery, k K, t uint64) *StatsBucket {
	m := sb[k]
	if m == nil {
		m = map[uint64]*StatsBucket{}
		sb[k] = m
	}
	start := q.BucketStart(t)
	bk := m[start]
	if bk == nil {
		bk = &StatsBucket{StartUnixNano: start}
		m[start] = bk
	}
	return bk
}

// sortedBuckets returns a series' buckets sorted by start.
func sortedBuckets(m map[uint64]*StatsBucket) []StatsBucket {
	out := make([]StatsBucket, 0, len(m))
	for _, bk := range m {
		out = append(out, *bk)
	}
	slices.SortFunc(out, func(a, b StatsBucket) int { return cmp.Compare(a.StartUnixNano, b.StartUnixNano) })
	return out
}

// NewStatsBuilder returns a builder for q.
func NewStatsBuilder(q StatsQuery) *StatsBuilder {
	return &StatsBuilder{q: q, ops: seriesBuckets[statsOp]{}}
}

// Matches reports whether spans of the operation belong to the query.
func (b *StatsBuilder) Matches(service, name string) bool {
	return (b.q.Service == "" || b.q.Service == service) && (b.q.Operation == "" || b.q.Operation == name)
}

func (b *StatsBuilder) bucket(service, name string, kind model.SpanKind, t uint64) *StatsBucket {
	return b.ops.bucket(b.q, statsOp{service, name, kind}, t)
}

// AddSpan counts s when it matches the query and starts in its range.
func (b *StatsBuilder) AddSpan(s *model.Span) {
	svc := s.Service()
	if !b.Matches(svc, s.Name) || !b.q.Range.Contains(s.StartUnixNano) {
		return
	}
	bk := b.bucket(svc, s.Name, s.Kind, s.StartUnixNano)
	bk.Calls++
	if s.StatusCode == model.StatusError {
		bk.Errors++
	}
	bk.Latency.Add(float64(s.Duration()))
}

// AddBucket merges partial statistics of spans starting at t (for
// backends that keep them pre-aggregated, t is the partial bucket's
// start). The caller checks the range; lat is not retained.
func (b *StatsBuilder) AddBucket(service, name string, kind model.SpanKind, t, calls, errs uint64, lat *sketch.Sketch) {
	if !b.Matches(service, name) || calls == 0 {
		return
	}
	bk := b.bucket(service, name, kind, t)
	bk.Calls += calls
	bk.Errors += errs
	bk.Latency.Merge(lat)
}

// Result returns the sorted statistics.
func (b *StatsBuilder) Result() []OperationStats {
	out := make([]OperationStats, 0, len(b.ops))
	for k, m := range b.ops {
		out = append(out, OperationStats{Service: k.service, Operation: k.name, Kind: k.kind, Buckets: sortedBuckets(m)})
	}
	slices.SortFunc(out, func(a, b OperationStats) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
