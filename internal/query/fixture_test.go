package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/prometheus/client_golang/prometheus"
)

var now = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) uint64 { return uint64(now.Add(d).UnixNano()) }

func tid(s string) model.TraceID {
	id, err := model.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func sid(s string) model.SpanID {
	id, err := model.ParseSpanID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func res(service string) *model.Resource {
	return &model.Resource{ServiceName: service, Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue(service)}}}
}

// span builds a span of trace t starting at start for dur.
func span(t, id, parent string, r *model.Resource, name string, start, dur time.Duration, attrs ...model.KeyValue) *model.Span {
	s := &model.Span{
		TraceID: tid(t), SpanID: sid(id), Name: name, Resource: r,
		StartUnixNano: at(start), EndUnixNano: at(start + dur), Attributes: attrs,
	}
	if parent != "" {
		s.ParentSpanID = sid(parent)
	}
	return s
}

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

// fixture stores three traces:
//
//	a1 (-10m): frontend "GET /" → api "call" (error status, peer.service=db)
//	b2 (-5m):  frontend "GET /health"
//	c3 (-3h):  api "call" with attribute error=true, service.peer.name=cache
func fixture(t *testing.T) *memstore.Store {
	t.Helper()
	fe, api := res("frontend"), res("api")
	failed := span("a1", "1002", "1001", api, "call", -10*time.Minute+time.Millisecond, 2*time.Millisecond, str("peer.service", "db"))
	failed.StatusCode = model.StatusError
	st := memstore.New()
	err := st.Write(context.Background(), []*model.Span{
		span("a1", "1001", "", fe, "GET /", -10*time.Minute, 5*time.Millisecond, str("http.method", "GET")),
		failed,
		span("b2", "2001", "", fe, "GET /health", -5*time.Minute, time.Millisecond),
		span("c3", "3001", "", api, "call", -3*time.Hour, 10*time.Millisecond,
			model.KeyValue{Key: "error", Value: model.BoolValue(true)}, str("service.peer.name", "cache")),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t *testing.T, r query.Reader, reg prometheus.Registerer) *query.Service {
	t.Helper()
	q, err := query.New(r, query.Options{Registerer: reg, Now: func() time.Time { return now }, FetchConcurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func eq(f storage.Field, v string) storage.Condition {
	return storage.Condition{Field: f, Op: storage.OpEqual, Value: model.StringValue(v)}
}
