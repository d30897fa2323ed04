package local

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func TestHeadDeduplicatesSpans(t *testing.T) {
	h := NewHead()
	spans := gen(50, 3, 40, testEpoch) // traces large enough for the ID set
	h.append(spans, testEpoch)
	size := h.Bytes()
	h.append(spans[:50], testEpoch)
	h.append(slices.Concat(spans[10:20], spans[10:20]), testEpoch)
	if h.NumSpans() != len(spans) {
		t.Fatalf("head holds %d spans after duplicates, want %d", h.NumSpans(), len(spans))
	}
	// Only the batches' resources and scopes may be counted again.
	dups := slices.Concat(spans[:50], spans[10:20], spans[10:20])
	if grown := h.Bytes() - size; grown >= batchBytes(dups)/2 {
		t.Errorf("duplicates grew the byte count by %d", grown)
	}
	got, _ := h.Trace(context.Background(), spans[0].TraceID)
	if len(got) != 40 {
		t.Fatalf("trace has %d spans, want 40", len(got))
	}
}

func TestHeadSearch(t *testing.T) {
	h := NewHead()
	spans := gen(51, 50, 6, testEpoch)
	h.append(spans, testEpoch)
	ref := reference(t, spans)
	ctx := context.Background()
	for _, q := range []*storage.Query{
		{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("cart")}}},
		{Conditions: []storage.Condition{{Field: storage.FieldName, Op: storage.OpRegex, Value: model.StringValue("GET .*")}}},
		{Range: storage.TimeRange{Start: uint64(testEpoch.Add(time.Second).UnixNano()), End: uint64(testEpoch.Add(2 * time.Second).UnixNano())}},
	} {
		m, err := storage.NewMatcher(q)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := h.Search(ctx, m, 1000)
		if err != nil {
			t.Fatal(err)
		}
		q.Limit = 1000
		want, _ := ref.FindTraces(ctx, q)
		if len(hits) != len(want) || len(want) == 0 {
			t.Fatalf("Search(%v): %d hits, want %d (> 0)", q.Conditions, len(hits), len(want))
		}
		for i := range hits {
			if hits[i].TraceID != want[i].TraceID || hits[i].StartUnixNano != want[i].StartUnixNano {
				t.Fatalf("hit %d = %+v, want %s at %d", i, hits[i], want[i].TraceID, want[i].StartUnixNano)
			}
		}
		if limited, _ := h.Search(ctx, m, 3); !slices.Equal(limited, hits[:min(3, len(hits))]) {
			t.Fatalf("limited search = %v, want the 3 newest", limited)
		}
	}
}

func TestHeadAttributeCatalogIsBounded(t *testing.T) {
	h := NewHead()
	var spans []*model.Span
	for i := range headMaxValuesPerAttribute + 100 {
		spans = append(spans, &model.Span{
			TraceID: model.TraceID{1, byte(i >> 8), byte(i)}, SpanID: model.SpanID{1}, StartUnixNano: 1, EndUnixNano: 2,
			Attributes: []model.KeyValue{
				{Key: "id", Value: model.StringValue(fmt.Sprint(i))},
				{Key: "common", Value: model.StringValue(fmt.Sprint(i % 3))},
				{Key: "long", Value: model.StringValue(string(make([]byte, headMaxValueLen+1)))},
			},
		})
	}
	h.append(spans, testEpoch)
	ctx := context.Background()
	ids, _ := h.AttributeValues(ctx, storage.ScopeSpan, "id", 0)
	if len(ids) != headMaxValuesPerAttribute {
		t.Errorf("remembered %d values of a high-cardinality attribute, want the cap %d", len(ids), headMaxValuesPerAttribute)
	}
	common, _ := h.AttributeValues(ctx, storage.ScopeAny, "common", 2)
	if len(common) != 2 || common[0].Str != "0" {
		t.Errorf("most frequent values = %v, want [0 ...]", common)
	}
	if long, _ := h.AttributeValues(ctx, storage.ScopeSpan, "long", 0); len(long) != 0 {
		t.Errorf("remembered a value longer than %d bytes", headMaxValueLen)
	}
	names := h.Catalog().Attributes
	if !slices.Contains(names, storage.AttributeName{Scope: storage.ScopeSpan, Name: "long"}) {
		t.Errorf("attribute name of unremembered values missing: %v", names)
	}
}

// The catalog's caches must not invent entries: an operation or key
// equal to a cache's zero value is still recorded.
func TestHeadCatalogZeroValues(t *testing.T) {
	h := NewHead()
	s := &model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, StartUnixNano: 1, EndUnixNano: 2,
		Attributes: []model.KeyValue{{Key: "", Value: model.StringValue("")}}}
	h.append([]*model.Span{s}, testEpoch)
	c := h.Catalog()
	if len(c.Operations) != 1 || c.Operations[0] != (storage.Operation{}) {
		t.Errorf("operations %v, want the empty one", c.Operations)
	}
	if len(c.Attributes) != 1 || c.Attributes[0] != (storage.AttributeName{Scope: storage.ScopeSpan}) {
		t.Errorf("attributes %v, want the empty key", c.Attributes)
	}
}

// The head's operation statistics count against its memory bound: spans
// spread over many minutes and operations cost more than the same spans
// in one cell.
func TestHeadBytesCountStatistics(t *testing.T) {
	spans := gen(41, 100, 5, testEpoch)
	spread := NewHead()
	for i, s := range spans {
		c := *s
		c.Name = fmt.Sprintf("op-%d", i%50)
		c.StartUnixNano = uint64(testEpoch.Add(time.Duration(i) * time.Minute).UnixNano())
		c.EndUnixNano = c.StartUnixNano + uint64(time.Duration(1+i)*time.Millisecond)
		spread.append([]*model.Span{&c}, testEpoch)
	}
	if got, spans := spread.Bytes(), batchBytes(spans); got < spans+int64(len(spread.stats))*statsCellBytes {
		t.Errorf("head of %d cells = %d bytes, want at least the spans' %d plus %d per cell", len(spread.stats), got, spans, statsCellBytes)
	}
}
