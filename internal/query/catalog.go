package query

import (
	"context"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// DefaultAttributeLimit is the number of attribute names or values
// returned when AttributeQuery.Limit is 0: plenty for a picker, bounded for
// a backend.
const DefaultAttributeLimit = 1000

// Services returns every service name, sorted.
func (s *Service) Services(ctx context.Context) (_ []string, err error) {
	defer func(start time.Time) { s.finish(ctx, "services", start, err) }(time.Now())
	return s.reader.Services(ctx)
}

// Operations returns the operations (span names with kinds) of q.Service,
// or of every service when it is empty, sorted by name then kind.
func (s *Service) Operations(ctx context.Context, q storage.OperationQuery) (_ []storage.Operation, err error) {
	defer func(start time.Time) { s.finish(ctx, "operations", start, err) }(time.Now())
	if q.HasKind && q.Kind > model.KindConsumer {
		return nil, BadRequestf("unknown span kind %d", q.Kind)
	}
	return s.reader.Operations(ctx, q)
}

// AttributeNames returns attribute names for autocomplete; a zero Limit
// means [DefaultAttributeLimit].
func (s *Service) AttributeNames(ctx context.Context, q storage.AttributeQuery) (_ []storage.AttributeName, err error) {
	defer func(start time.Time) { s.finish(ctx, "attribute_names", start, err) }(time.Now())
	if err := validateAttributeQuery(&q); err != nil {
		return nil, err
	}
	return s.reader.AttributeNames(ctx, q)
}

// AttributeValues returns values of the attribute q.Name for autocomplete;
// a zero Limit means [DefaultAttributeLimit].
func (s *Service) AttributeValues(ctx context.Context, q storage.AttributeQuery) (_ []model.Value, err error) {
	defer func(start time.Time) { s.finish(ctx, "attribute_values", start, err) }(time.Now())
	if q.Name == "" {
		return nil, BadRequestf("attribute name is required")
	}
	if err := validateAttributeQuery(&q); err != nil {
		return nil, err
	}
	return s.reader.AttributeValues(ctx, q)
}

func validateAttributeQuery(q *storage.AttributeQuery) error {
	switch {
	case q.Limit < 0 || q.Limit > storage.MaxLimit:
		return BadRequestf("limit %d out of range [0, %d]", q.Limit, storage.MaxLimit)
	case q.Range.Start != 0 && q.Range.End != 0 && q.Range.End < q.Range.Start:
		return BadRequestf("time range ends before it starts")
	case q.Scope > storage.ScopeLink:
		return BadRequestf("unknown attribute scope %d", q.Scope)
	}
	if q.Limit == 0 {
		q.Limit = DefaultAttributeLimit
	}
	return nil
}

// Dependencies returns the caller→callee edges between services whose
// calls started in r, sorted by parent then child. On a backend that keeps
// edge statistics ([storage.StatsReader]) they are read from those, at the
// backend's resolution (a minute that overlaps r counts whole), because
// counting from the spans decodes every span of the window: a day's
// dependency graph, the Jaeger UI's default, would read a day of spans.
func (s *Service) Dependencies(ctx context.Context, r storage.TimeRange) (_ []storage.Dependency, err error) {
	defer func(start time.Time) { s.finish(ctx, "dependencies", start, err) }(time.Now())
	if r.Start != 0 && r.End != 0 && r.End < r.Start {
		return nil, BadRequestf("time range ends before it starts")
	}
	sr, ok := s.reader.(storage.StatsReader)
	if !ok {
		return s.reader.Dependencies(ctx, r)
	}
	edges, err := sr.EdgeStats(ctx, storage.StatsQuery{Range: r})
	if err != nil {
		return nil, err
	}
	out := make([]storage.Dependency, len(edges))
	for i, e := range edges {
		d := storage.Dependency{Parent: e.Parent, Child: e.Child}
		for _, b := range e.Buckets {
			d.CallCount += b.Calls
			d.ErrorCount += b.Errors
		}
		out[i] = d
	}
	return out, nil
}

// PeerServiceKeys are the span attributes that name the remote side of a
// call, newest convention first: the OpenTelemetry Zipkin translator
// stores a Zipkin remoteEndpoint.serviceName as service.peer.name, older
// instrumentation writes peer.service.
var PeerServiceKeys = []string{"service.peer.name", "peer.service"}

// RemoteServices returns the services that spans of service called, by
// their peer-service attributes (Zipkin's remoteServices), sorted. With an
// empty service it returns every remote service seen. r bounds the spans
// looked at; zero means all.
//
// NB: the catalog does not index attribute values per service, so for one
// service each candidate value costs a limit-1 search. There are rarely
// more than a few dozen.
func (s *Service) RemoteServices(ctx context.Context, service string, r storage.TimeRange) (_ []string, err error) {
	defer func(start time.Time) { s.finish(ctx, "remote_services", start, err) }(time.Now())
	var candidates []string
	for _, key := range PeerServiceKeys {
		vals, err := s.reader.AttributeValues(ctx, storage.AttributeQuery{
			Scope: storage.ScopeSpan, Name: key, Range: r, Limit: DefaultAttributeLimit,
		})
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if str := v.AsString(); str != "" {
				candidates = append(candidates, str)
			}
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	if service == "" {
		return candidates, nil
	}
	keep := make([]bool, len(candidates))
	errs := make(chan error, len(candidates))
	sem := make(chan struct{}, s.fetch)
	for i, peer := range candidates {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			sums, err := s.findTraces(ctx, &Search{
				Query: storage.Query{
					Range:      r,
					Limit:      1,
					Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue(service)}},
				},
				AnyOf: [][]storage.Condition{PeerServiceFilter(peer)},
			})
			keep[i] = len(sums) > 0
			errs <- err
		}()
	}
	for range candidates {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	out := candidates[:0]
	for i, c := range candidates {
		if keep[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// PeerServiceFilter returns the alternatives under which a span called
// peer: any of [PeerServiceKeys] equals it.
func PeerServiceFilter(peer string) []storage.Condition {
	out := make([]storage.Condition, len(PeerServiceKeys))
	for i, k := range PeerServiceKeys {
		out[i] = storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: k, Op: storage.OpEqual, Value: model.StringValue(peer)}
	}
	return out
}
