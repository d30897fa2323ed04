package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// testSharedSpans checks Zipkin's shared spans: the client and server
// halves of one RPC carry the same span ID, with a different kind and
// usually a different service. A backend must keep both halves (a span is
// identified by trace ID, span ID, kind and service), while a retried
// delivery of either half is still stored once, before and after a
// Flush.
func (s *suite) testSharedSpans(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	spans := GenerateTraces(7, 4, 6, s.opts.baseTime().Add(-20*time.Minute))
	callee := &model.Resource{
		ServiceName: "zipkin-callee",
		Attributes:  []model.KeyValue{{Key: "service.name", Value: model.StringValue("zipkin-callee")}},
	}
	var servers []*model.Span
	for _, sp := range spans {
		if sp.IsRoot() {
			continue
		}
		sp.Kind = model.KindClient
		srv := sp.Clone()
		srv.Kind = model.KindServer
		srv.Resource = callee
		srv.StartUnixNano += uint64(time.Microsecond)
		srv.EndUnixNano -= min(uint64(time.Microsecond), srv.EndUnixNano-srv.StartUnixNano)
		servers = append(servers, srv)
	}
	all := slices.Concat(spans, servers)

	h.write(ctx, cloneSpans(spans))
	h.write(ctx, cloneSpans(servers))
	checkTraces(t, h, all, "both halves written")
	h.write(ctx, cloneSpans(servers[:len(servers)/2])) // retried export
	checkTraces(t, h, all, "after a retry")
	if !h.flush(ctx) {
		return
	}
	h.write(ctx, cloneSpans(all)) // retried again, now across a flush
	checkTraces(t, h, all, "after a flush and a retry")
	h.flush(ctx)
	checkTraces(t, h, all, "after a second flush")

	q := &storage.Query{Conditions: []storage.Condition{{
		Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("zipkin-callee"),
	}}, Limit: 100}
	if got := h.find(ctx, q); len(got) != len(byTrace(all)) {
		t.Errorf("FindTraces(service = zipkin-callee) found %d traces, want %d", len(got), len(byTrace(all)))
	}
}
