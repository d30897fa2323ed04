package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clew-tracing/clew/internal/storage"
)

// ErrStatsUnsupported is returned (wrapped) by [Service.OperationStats]
// when the backend keeps no operation statistics; it wraps
// [errors.ErrUnsupported], so callers test for either and fall back to
// sampling traces.
var ErrStatsUnsupported = fmt.Errorf("query: backend keeps no operation statistics: %w", errors.ErrUnsupported)

// HasOperationStats reports whether [Service.OperationStats] is supported.
func (s *Service) HasOperationStats() bool {
	_, ok := s.reader.(storage.StatsReader)
	return ok
}

// OperationStats returns per-operation call counts, error counts and
// latency sketches in buckets of q.Step over q.Range, from the backend's
// [storage.StatsReader] (see its contract for bucketing and order). It
// returns an error wrapping [errors.ErrUnsupported] when the backend does
// not implement it.
func (s *Service) OperationStats(ctx context.Context, q storage.StatsQuery) (_ []storage.OperationStats, err error) {
	sr, ok := s.reader.(storage.StatsReader)
	if !ok {
		return nil, ErrStatsUnsupported
	}
	defer func(start time.Time) { s.finish(ctx, "operation_stats", start, err) }(time.Now())
	switch {
	case q.Range.Start != 0 && q.Range.End != 0 && q.Range.End < q.Range.Start:
		return nil, BadRequestf("time range ends before it starts")
	case q.Step < 0:
		return nil, BadRequestf("negative step %v", q.Step)
	}
	return sr.OperationStats(ctx, q)
}

// EdgeStats returns per-service-edge call counts, error counts and latency
// sketches of the child spans in buckets of q.Step over q.Range, from the
// backend's [storage.StatsReader]. It returns an error wrapping
// [errors.ErrUnsupported] when the backend does not implement it.
func (s *Service) EdgeStats(ctx context.Context, q storage.StatsQuery) (_ []storage.EdgeStats, err error) {
	sr, ok := s.reader.(storage.StatsReader)
	if !ok {
		return nil, ErrStatsUnsupported
	}
	defer func(start time.Time) { s.finish(ctx, "edge_stats", start, err) }(time.Now())
	switch {
	case q.Range.Start != 0 && q.Range.End != 0 && q.Range.End < q.Range.Start:
		return nil, BadRequestf("time range ends before it starts")
	case q.Step < 0:
		return nil, BadRequestf("negative step %v", q.Step)
	}
	return sr.EdgeStats(ctx, q)
}
