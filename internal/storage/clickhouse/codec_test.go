package clickhouse

import (
	"math"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

func TestSpanCodecRoundTrip(t *testing.T) {
	spans := storagetest.GenerateTraces(1, 20, 8, time.Unix(1_790_000_000, 0))
	odd := &model.Span{
		TraceID: model.TraceID{1}, SpanID: model.SpanID{2}, TraceState: "k=v", Flags: 0x301,
		Name: "odd", Kind: model.KindConsumer, StartUnixNano: 5, EndUnixNano: 3, // ends before it starts
		StatusCode: model.StatusError, StatusMessage: "boom\x00\xff",
		Attributes: []model.KeyValue{
			{Key: "nan", Value: model.DoubleValue(math.NaN())},
			{Key: "inf", Value: model.DoubleValue(math.Inf(-1))},
			{Key: "bytes", Value: model.BytesValue([]byte{0, 1, 2})},
			{Key: "empty", Value: model.Value{}},
			{Key: "nested", Value: model.Value{Type: model.TypeArray, Array: []model.Value{
				model.IntValue(-7), {Type: model.TypeMap, Map: []model.KeyValue{{Key: "b", Value: model.BoolValue(true)}}},
			}}},
		},
		DroppedAttributesCount: 1, DroppedEventsCount: 2, DroppedLinksCount: 3,
		Events: []model.Event{{TimeUnixNano: 4, Name: "e", DroppedAttributesCount: 9}},
		Links:  []model.Link{{TraceID: model.TraceID{9}, SpanID: model.SpanID{8}, TraceState: "x", Flags: 1, DroppedAttributesCount: 2}},
	}
	spans = append(spans, odd)
	var got []*model.Span
	var buf []byte
	for _, s := range spans {
		buf = appendSpan(buf[:0], s)
		d, err := decodeSpan(buf)
		if err != nil {
			t.Fatalf("decode span %s: %v", s.SpanID, err)
		}
		got = append(got, d)
	}
	if d := storagetest.DiffSpans(spans, got); d != "" {
		t.Error(d)
	}
	// Every truncation of an encoded span fails cleanly.
	buf = appendSpan(buf[:0], odd)
	for i := range len(buf) {
		if _, err := decodeSpan(buf[:i]); err == nil {
			t.Fatalf("decoding %d of %d bytes succeeded", i, len(buf))
		}
	}
}

func FuzzDecodeSpan(f *testing.F) {
	for _, s := range storagetest.GenerateTraces(2, 2, 3, time.Unix(1_790_000_000, 0)) {
		f.Add(appendSpan(nil, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSpan(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to a span that decodes the same.
		s2, err := decodeSpan(appendSpan(nil, s))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if d := storagetest.DiffSpans([]*model.Span{s}, []*model.Span{s2}); d != "" {
			t.Fatal(d)
		}
	})
}
