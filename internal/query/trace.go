package query

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Trace returns every span of the trace, sorted by start time, or an error
// wrapping [ErrNotFound]. hint, when not zero, tells the backend where the
// trace probably lies (the APIs pass the start/end parameters a UI sends
// along with a trace ID).
//
// Spans delivered twice (a retried export) are returned once: the Jaeger
// UI flags duplicate span IDs as an error, and they carry nothing new.
func (s *Service) Trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) (_ *model.Trace, err error) {
	defer func(start time.Time) { s.finish(ctx, "trace", start, err) }(time.Now())
	if id.IsZero() {
		return nil, BadRequestf("trace id is all zero")
	}
	return s.trace(ctx, id, hint)
}

func (s *Service) trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) (*model.Trace, error) {
	t, err := s.reader.Trace(ctx, id, hint)
	if err != nil {
		return nil, err
	}
	if t == nil || len(t.Spans) == 0 {
		return nil, ErrNotFound
	}
	t.Spans = dedupe(t.Spans)
	return t, nil
}

// spanKey identifies a delivery of a span: Zipkin's shared spans reuse one
// span ID for the client and server side, so the ID alone is not enough.
type spanKey struct {
	id, parent model.SpanID
	start, end uint64
	kind       model.SpanKind
	service    string
	name       string
}

// dedupe sorts spans by start time (then span ID, for a stable order) and
// drops exact redeliveries.
func dedupe(spans []*model.Span) []*model.Span {
	slices.SortStableFunc(spans, func(a, b *model.Span) int {
		if c := cmp.Compare(a.StartUnixNano, b.StartUnixNano); c != 0 {
			return c
		}
		return slices.Compare(a.SpanID[:], b.SpanID[:])
	})
	seen := make(map[spanKey]struct{}, len(spans))
	out := spans[:0]
	for _, sp := range spans {
		k := spanKey{
			id: sp.SpanID, parent: sp.ParentSpanID, start: sp.StartUnixNano, end: sp.EndUnixNano,
			kind: sp.Kind, service: sp.Service(), name: sp.Name,
		}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, sp)
	}
	clear(spans[len(out):])
	return out
}

// Traces fetches several traces by ID (Jaeger's multi-get, Zipkin's
// traceMany). found keeps the order of ids, each trace once; missing lists
// the IDs with no stored span, which the APIs report without failing.
func (s *Service) Traces(ctx context.Context, ids []model.TraceID) (found []*model.Trace, missing []model.TraceID, err error) {
	defer func(start time.Time) { s.finish(ctx, "traces", start, err) }(time.Now())
	uniq := make([]model.TraceID, 0, len(ids))
	seen := make(map[model.TraceID]struct{}, len(ids))
	for _, id := range ids {
		if id.IsZero() {
			return nil, nil, BadRequestf("trace id is all zero")
		}
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			uniq = append(uniq, id)
		}
	}
	hints := make([]storage.TimeRange, len(uniq))
	traces, err := s.fetchAll(ctx, uniq, hints)
	if err != nil {
		return nil, nil, err
	}
	for i, t := range traces {
		if t == nil {
			missing = append(missing, uniq[i])
			continue
		}
		found = append(found, t)
	}
	return found, missing, nil
}

// fetchAll fetches the traces ids[i] (with hints[i]) at most s.fetch at a
// time. A trace that is not found leaves a nil in its slot: between a
// search and the fetch, retention may have removed it. Any other error
// cancels the rest and is returned.
func (s *Service) fetchAll(ctx context.Context, ids []model.TraceID, hints []storage.TimeRange) ([]*model.Trace, error) {
	out := make([]*model.Trace, len(ids))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.fetch)
	var wg sync.WaitGroup
start:
	for i := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break start
		}
		wg.Go(func() {
			defer func() { <-sem }()
			t, err := s.trace(ctx, ids[i], hints[i])
			switch {
			case err == nil:
				out[i] = t
			case !errors.Is(err, ErrNotFound):
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}
