package local

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Bounds of the head's attribute catalog. Attribute values are kept only for
// autocomplete, so a head keeps a bounded sample rather than every value:
// high-cardinality attributes (IDs, URLs) would otherwise cost as much
// memory as the spans.
const (
	// headMaxAttributeNames is the most distinct (scope, name) pairs a
	// head remembers.
	headMaxAttributeNames = 10_000
	// headMaxValuesPerAttribute is the most distinct values remembered
	// for one attribute.
	headMaxValuesPerAttribute = 1_000
	// headMaxAttributeValues is the most values remembered in total.
	headMaxAttributeValues = 100_000
	// headMaxValueLen is the longest string value remembered; longer ones
	// are useless in a picker.
	headMaxValueLen = 256
)

// Head holds the most recent spans in memory, indexed for the queries a
// block answers: by trace ID, by service, and in a catalog of services,
// operations and attributes. It implements the same read methods as
// [block.Block], so the query code treats both alike.
//
// Spans are only ever appended, and the slices that index them are only
// ever appended to, so a reader may copy a slice header under the read lock
// and scan it after releasing the lock. A Head is safe for concurrent use.
type Head struct {
	mu sync.RWMutex
	// traces indexes spans by trace.
	traces map[model.TraceID]*headTrace
	// traceList holds every trace in order of arrival of its first span,
	// for searches without a service condition.
	traceList []*headTrace
	// spans holds every span in arrival order, for catalog scans.
	spans []*model.Span
	// byService holds, for each service, the traces with a span of it, in
	// order of arrival of the trace's first span of the service.
	byService map[string][]*headTrace
	// operations is the set of (service, name, kind).
	operations map[storage.Operation]struct{}
	// attrs is the bounded attribute catalog.
	attrs      map[storage.AttributeName]*attrValues
	attrValues int // values remembered over all attrs
	// stats are the per-minute operation statistics of the head's spans.
	stats opStats
	// noted counts the spans noted in the catalog, for value sampling;
	// lastOps and lastKeys cache recent catalog entries (head_catalog.go).
	noted       uint64
	lastOps     [headOpCache]storage.Operation
	lastOp      int
	nOps        int
	lastKeys    []keyEntry
	minTime     uint64
	maxTime     uint64
	firstAppend time.Time

	// count and bytes are read without the lock by the write path and by
	// metrics.
	count atomic.Int64
	bytes atomic.Int64

	// walSegment is the first WAL segment that holds none of this head's
	// records, once the head has been rotated out (0 before). The WAL may
	// be truncated up to it once the head is safe in a block.
	walSegment int
}

// headTrace is one trace's spans in a head. Its fields change under the
// head's write lock as spans arrive.
type headTrace struct {
	id       model.TraceID
	spans    []*model.Span
	minStart uint64
	maxEnd   uint64
	// ids is the set of span identities, built once the trace is large
	// enough that a linear duplicate check would cost more than the map.
	ids map[spanIdentity]struct{}
	// services is the set of the spans' services, built with ids.
	services map[string]struct{}
}

// spanIdentity tells two deliveries of one span apart from two different
// spans of a trace. Zipkin's shared spans (the client and server halves
// of one RPC) carry the same span ID, so the ID alone would drop one
// half; the kind and the service tell the halves apart, while a retried
// export of the same span still collapses. Every merge of the engine (the
// head, reads across parts, compaction) uses it, as the memstore does.
type spanIdentity struct {
	id      model.SpanID
	kind    model.SpanKind
	service string
}

// identityOf returns the identity of s.
func identityOf(s *model.Span) spanIdentity {
	return spanIdentity{id: s.SpanID, kind: s.Kind, service: s.Service()}
}

// sameSpan reports whether a and b are deliveries of one span.
func sameSpan(a, b *model.Span) bool {
	return a.SpanID == b.SpanID && a.Kind == b.Kind && a.Service() == b.Service()
}

// attrValues counts the values seen for one attribute.
type attrValues struct {
	values map[valueKey]*valueCount
	full   bool // no more new values are remembered
}

// valueKey identifies a scalar value.
type valueKey struct {
	typ model.ValueType
	s   string
	n   uint64 // ints, bools and the bits of doubles: no string formatting on the append path
}

// makeValueKey identifies a scalar value without allocating.
func makeValueKey(v model.Value) valueKey {
	switch v.Type {
	case model.TypeBool, model.TypeInt:
		return valueKey{typ: v.Type, n: uint64(v.Int)}
	case model.TypeDouble:
		return valueKey{typ: v.Type, n: math.Float64bits(v.Double)}
	}
	return valueKey{typ: v.Type, s: v.AsString()}
}

// valueCount is a remembered value, how often it was seen, and the last
// append it was seen in (for "most recent first" ties).
type valueCount struct {
	v     model.Value
	count int
	seq   uint64
}

// NewHead returns an empty head.
func NewHead() *Head {
	return &Head{
		traces:     make(map[model.TraceID]*headTrace),
		byService:  make(map[string][]*headTrace),
		operations: make(map[storage.Operation]struct{}),
		attrs:      make(map[storage.AttributeName]*attrValues),
		stats:      make(opStats),
	}
}

// NumSpans returns the number of spans in the head.
func (h *Head) NumSpans() int { return int(h.count.Load()) }

// Bytes returns the approximate memory held by the head's spans.
func (h *Head) Bytes() int64 { return h.bytes.Load() }

// Bounds returns the smallest span start and the largest span end in the
// head, and false when the head is empty.
func (h *Head) Bounds() (minTime, maxTime uint64, ok bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.spans) == 0 {
		return 0, 0, false
	}
	return h.minTime, h.maxTime, true
}

// FirstAppend returns the time of the first append into the head (by the
// DB's clock), or the zero time when the head is empty. The head is cut
// when this is older than Options.HeadMaxAge.
func (h *Head) FirstAppend() time.Time {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.firstAppend
}
