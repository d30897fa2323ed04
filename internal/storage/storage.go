package storage

import (
	"context"
	"errors"

	"github.com/clew-tracing/clew/internal/model"
)

// Sentinel errors shared by every backend.
var (
	// ErrNotFound is returned by TraceReader.Trace when no span of the trace is stored.
	ErrNotFound = errors.New("trace not found")
	// ErrClosed is returned by any call on a backend after Close.
	ErrClosed = errors.New("storage closed")
	// ErrOverloaded is returned by Write when the backend cannot take more
	// work right now; the caller should answer with a retryable error.
	ErrOverloaded = errors.New("storage overloaded")
)

// Writer stores spans.
type Writer interface {
	// Write stores spans and returns only once they are durable: after a
	// nil return they survive a crash of the process. The backend may keep
	// references to the spans and their Resource and Scope; the caller must
	// not modify them afterwards. Safe for concurrent use.
	Write(ctx context.Context, spans []*model.Span) error
}

// TraceReader finds traces.
type TraceReader interface {
	// Trace returns every stored span of the trace, or ErrNotFound. The
	// hint, when not zero, says where the trace's spans probably lie in
	// time; a backend may use it to skip data but must still find the
	// trace without it. The returned spans are owned by the caller.
	Trace(ctx context.Context, id model.TraceID, hint TimeRange) (*model.Trace, error)

	// FindTraces returns summaries of the traces that have at least one
	// span matching q, newest trace first (by the trace's start time), at
	// most q.Limit of them.
	FindTraces(ctx context.Context, q *Query) ([]TraceSummary, error)
}

// CatalogReader lists what has been stored, for pickers and autocomplete.
type CatalogReader interface {
	// Services returns every service name, sorted.
	Services(ctx context.Context) ([]string, error)
	// Operations returns the span names of a service (all services when
	// q.Service is empty) with their kinds, sorted by name then kind.
	Operations(ctx context.Context, q OperationQuery) ([]Operation, error)
	// AttributeNames returns attribute names seen in the scope (all scopes
	// when ScopeAny) and time range, sorted, at most q.Limit.
	AttributeNames(ctx context.Context, q AttributeQuery) ([]AttributeName, error)
	// AttributeValues returns distinct values of the attribute q.Name in
	// q.Scope, at most q.Limit, most frequent or most recent first where
	// the backend can tell.
	AttributeValues(ctx context.Context, q AttributeQuery) ([]model.Value, error)
}

// DependencyReader derives the service graph.
type DependencyReader interface {
	// Dependencies returns caller→callee edges between services whose
	// child spans started in r, one per pair, sorted by parent then child.
	Dependencies(ctx context.Context, r TimeRange) ([]Dependency, error)
}

// Backend is a complete storage backend.
type Backend interface {
	Writer
	TraceReader
	CatalogReader
	DependencyReader
	// Close releases resources; pending writes are flushed first.
	Close() error
}

// Flusher is implemented by backends that buffer recent data in a form
// other than their long-term one (the embedded engine's head). Flush moves
// everything written so far into long-term form. Tests and shutdown use it;
// correctness never depends on it.
type Flusher interface {
	Flush(ctx context.Context) error
}

// FullTraceFinder is implemented by backends that can return the traces a
// search finds along with their summaries. A backend that fetches every
// trace it finds anyway (to summarise it) then fetches it once instead of
// twice, as the query layer would with FindTraces followed by Trace for
// each summary. The query layer uses it when the backend implements it.
type FullTraceFinder interface {
	// FindTracesFull is FindTraces returning, for each summary, the whole
	// trace as Trace would (every stored span, each once): traces[i] is
	// the trace sums[i] describes, newest first, at most q.Limit of them.
	// The traces are owned by the caller.
	FindTracesFull(ctx context.Context, q *Query) (traces []*model.Trace, sums []TraceSummary, err error)
}

// StatsReader is implemented by backends that keep call statistics (RED
// metrics: rate, errors, duration) per operation and per service edge.
// The query layer uses it for RED metrics, latency baselines and the
// service graph when the backend implements it, and samples traces
// otherwise.
type StatsReader interface {
	// OperationStats returns, for each (service, span name, kind) that
	// has spans starting in q.Range and matches q.Service and q.Operation
	// (empty matches all), the spans' call counts, error counts (status
	// error) and durations (nanoseconds) in buckets of q.Step. Buckets are
	// aligned to q.Step counting from q.Range.Start; with a zero Step
	// there is one bucket starting at q.Range.Start. Results are sorted
	// by service, operation then kind, and each one's buckets by start;
	// only buckets with calls are returned. A backend may keep statistics
	// at a resolution of up to [StatsResolution] (the embedded engine
	// keeps whole minutes), counting the spans of a cell that overlaps the
	// range in the bucket holding the later of the cell's start and
	// Range.Start: callers that align Range.Start and Step to
	// StatsResolution get exact buckets.
	// The result is owned by the caller. Safe for concurrent use.
	OperationStats(ctx context.Context, q StatsQuery) ([]OperationStats, error)

	// EdgeStats returns, for each caller→callee pair of services with
	// child spans starting in q.Range (edges as Dependencies finds them:
	// a span whose parent span belongs to another service), the child
	// spans' call counts, error counts and durations in buckets of
	// q.Step, under the bucketing and resolution rules of
	// OperationStats. q.Service, when set, keeps the edges with that
	// service at either end; q.Operation is ignored. Results are sorted by
	// parent then child. A backend may count an edge late (a span whose
	// parent has not arrived yet has no edge) but counts each child span
	// once. The result is owned by the caller. Safe for concurrent use.
	EdgeStats(ctx context.Context, q StatsQuery) ([]EdgeStats, error)
}
