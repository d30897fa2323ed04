package local

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// sharedHalves returns, for every span of spans that has a parent, a
// Zipkin-style server half: the same trace and span ID, kind server and
// another service. The originals become the client halves.
func sharedHalves(spans []*model.Span) []*model.Span {
	server := &model.Resource{ServiceName: "callee", Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue("callee")}}}
	var out []*model.Span
	for _, s := range spans {
		if s.IsRoot() {
			continue
		}
		s.Kind = model.KindClient
		h := s.Clone()
		h.Kind = model.KindServer
		h.Resource = server
		h.StartUnixNano++
		out = append(out, h)
	}
	return out
}

// TestSharedSpanIDsKept checks that the client and server halves of a
// Zipkin shared span (same span ID, different kind and service) are both
// kept by the head, by reads that merge the head with blocks, and by
// compaction, while a retried delivery of either half is still dropped.
func TestSharedSpanIDsKept(t *testing.T) {
	clock := newFakeClock(testEpoch)
	// 3 small traces (linear duplicate check) and 2 large ones (ID set).
	spans := slices.Concat(gen(71, 3, 4, testEpoch.Add(-10*time.Minute)), gen(72, 2, 30, testEpoch.Add(-10*time.Minute)))
	halves := sharedHalves(spans)
	all := slices.Concat(spans, halves)

	h := NewHead()
	h.append(all, testEpoch)
	h.append(slices.Concat(halves, spans[:5]), testEpoch) // retries
	if h.NumSpans() != len(all) {
		t.Fatalf("head holds %d spans, want %d (both halves, no retries)", h.NumSpans(), len(all))
	}

	db := openManual(t, t.TempDir(), testOptions(clock))
	mustWrite(t, db, spans)
	mustFlush(t, db)
	mustWrite(t, db, halves) // the other halves arrive in a later block
	checkTraces(t, db, all)
	mustFlush(t, db)
	mustWrite(t, db, halves) // and again (a retry), left in the head
	checkTraces(t, db, all)
	checkQueries(t, db, reference(t, all))

	mustFlush(t, db)
	clock.Advance(time.Hour)
	if err := db.compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := blockIDs(db); len(ids) != 1 {
		t.Fatalf("%d blocks after compaction, want 1", len(ids))
	}
	db.mu.RLock()
	n := db.blocks[0].meta.SpanCount
	db.mu.RUnlock()
	if n != len(all) {
		t.Fatalf("compacted block holds %d spans, want %d", n, len(all))
	}
	checkTraces(t, db, all)
}
