package local

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// oddSpans returns spans that exercise every corner of the record format.
func oddSpans() []*model.Span {
	res := &model.Resource{ServiceName: "svc", SchemaURL: "https://schema", Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue("svc")}}}
	scope := &model.Scope{Name: "lib", Version: "1.2", SchemaURL: "s", Attributes: []model.KeyValue{{Key: "k", Value: model.IntValue(-1)}}}
	nested := model.Value{Type: model.TypeArray, Array: []model.Value{
		model.StringValue("a"),
		{Type: model.TypeMap, Map: []model.KeyValue{{Key: "x", Value: model.DoubleValue(math.Inf(-1))}, {Key: "e", Value: model.Value{}}}},
		model.BytesValue([]byte{0, 1, 2, 255}),
	}}
	return []*model.Span{
		{
			TraceID: model.TraceID{1}, SpanID: model.SpanID{2}, ParentSpanID: model.SpanID{3},
			TraceState: "a=b", Flags: math.MaxUint32, Name: "op", Kind: model.KindServer,
			StartUnixNano: 1_000, EndUnixNano: 2_000, StatusCode: model.StatusError, StatusMessage: "boom",
			Attributes: []model.KeyValue{
				{Key: "s", Value: model.StringValue("v")},
				{Key: "b", Value: model.BoolValue(true)},
				{Key: "f", Value: model.BoolValue(false)},
				{Key: "i", Value: model.IntValue(math.MinInt64)},
				{Key: "d", Value: model.DoubleValue(3.5)},
				{Key: "n", Value: nested},
				{Key: "", Value: model.StringValue("")},
			},
			Events: []model.Event{{TimeUnixNano: 500, Name: "before start", DroppedAttributesCount: 7,
				Attributes: []model.KeyValue{{Key: "ev", Value: model.IntValue(1)}}}},
			Links: []model.Link{{TraceID: model.TraceID{9}, SpanID: model.SpanID{8}, TraceState: "t", Flags: 1, DroppedAttributesCount: 2,
				Attributes: []model.KeyValue{{Key: "l", Value: model.StringValue("x")}}}},
			DroppedAttributesCount: 1, DroppedEventsCount: 2, DroppedLinksCount: 3,
			Resource: res, Scope: scope,
		},
		// Ends before it starts, no resource or scope, maximal times.
		{TraceID: model.TraceID{1}, SpanID: model.SpanID{4}, StartUnixNano: math.MaxUint64, EndUnixNano: 1},
		{TraceID: model.TraceID{2}, SpanID: model.SpanID{5}, StartUnixNano: 1, EndUnixNano: math.MaxUint64, Resource: res},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for name, spans := range map[string][]*model.Span{
		"odd":       oddSpans(),
		"generated": storagetest.GenerateTraces(1, 20, 12, testEpoch),
	} {
		t.Run(name, func(t *testing.T) {
			enc := newRecordEncoder()
			rec := enc.encode(spans)
			if rec[0] != recordVersion {
				t.Fatalf("version byte %d", rec[0])
			}
			got, err := decodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			if d := storagetest.DiffSpans(spans, got); d != "" {
				t.Fatalf("round trip differs:\n%s", d)
			}
			// Spans that shared a resource still share one.
			for i := range spans {
				for j := range spans {
					if spans[i].Resource != nil && spans[i].Resource == spans[j].Resource && got[i].Resource != got[j].Resource {
						t.Fatalf("spans %d and %d no longer share their resource", i, j)
					}
				}
			}
		})
	}
}

func TestRecordDeduplicatesResources(t *testing.T) {
	spans := storagetest.GenerateTraces(2, 50, 10, testEpoch)
	rec := newRecordEncoder().encode(spans)
	var perSpan int
	for _, s := range spans {
		perSpan += len(newRecordEncoder().encode([]*model.Span{s})) - 3
	}
	if len(rec) >= perSpan*3/4 {
		t.Fatalf("batch record is %d bytes, spans encoded alone total %d: resources not shared", len(rec), perSpan)
	}
}

func TestRecordChunks(t *testing.T) {
	spans := storagetest.GenerateTraces(3, 40, 10, testEpoch)
	enc := newRecordEncoder()
	chunks, err := enc.chunks(spans, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("got %d chunks, want several", len(chunks))
	}
	var all []*model.Span
	for _, c := range chunks {
		if len(c.rec) > 4096 {
			t.Fatalf("chunk of %d bytes", len(c.rec))
		}
		got, err := decodeRecord(c.rec)
		if err != nil {
			t.Fatal(err)
		}
		if d := storagetest.DiffSpans(c.spans, got); d != "" {
			t.Fatalf("chunk differs:\n%s", d)
		}
		all = append(all, got...)
	}
	if d := storagetest.DiffSpans(spans, all); d != "" {
		t.Fatalf("chunks lose spans:\n%s", d)
	}
	big := &model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, Name: strings.Repeat("x", 5000)}
	if _, err := enc.chunks([]*model.Span{big}, 4096); !errors.Is(err, errRecordTooLarge) {
		t.Fatalf("oversized span: err %v, want errRecordTooLarge", err)
	}
}

func TestDecodeRecordRejectsDamage(t *testing.T) {
	rec := newRecordEncoder().encode(oddSpans())
	rec = bytes.Clone(rec)
	// Every truncation is an error, never a panic.
	for n := range len(rec) {
		if _, err := decodeRecord(rec[:n]); !errors.Is(err, errBadRecord) {
			t.Fatalf("truncated to %d bytes: err %v", n, err)
		}
	}
	f := func(name string, b []byte, want error) {
		t.Helper()
		_, err := decodeRecord(b)
		if !errors.Is(err, errBadRecord) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
	}
	f("version", append([]byte{2}, rec[1:]...), errVersion)
	f("trailing", append(bytes.Clone(rec), 0), nil)
	f("huge count", []byte{recordVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}, errCount)
	f("overlong varint", []byte{recordVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, errVarint)
	// One span pointing at resource 5 of 0.
	span := append([]byte{recordVersion, 0, 0, 1}, make([]byte, 32)...)
	f("resource index", append(span, 5), errIndex)
	// A value nested deeper than allowed.
	deep := model.StringValue("leaf")
	for range maxValueDepth + 1 {
		deep = model.Value{Type: model.TypeArray, Array: []model.Value{deep}}
	}
	s := &model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, Attributes: []model.KeyValue{{Key: "deep", Value: deep}}}
	f("depth", newRecordEncoder().encode([]*model.Span{s}), errValueDepth)
}

func TestSpanStorable(t *testing.T) {
	nest := func(n int) *model.Span {
		v := model.StringValue("leaf")
		for range n {
			v = model.Value{Type: model.TypeMap, Map: []model.KeyValue{{Key: "k", Value: v}}}
		}
		return &model.Span{Events: []model.Event{{Attributes: []model.KeyValue{{Key: "a", Value: v}}}}}
	}
	if !spanStorable(nest(maxValueDepth-1), &storableLast{}) {
		t.Errorf("depth %d rejected", maxValueDepth-1)
	}
	if spanStorable(nest(maxValueDepth), &storableLast{}) {
		t.Errorf("depth %d accepted", maxValueDepth)
	}
	if spanStorable(&model.Span{Attributes: []model.KeyValue{{Key: "k", Value: model.Value{Type: model.TypeMap + 1}}}}, &storableLast{}) {
		t.Error("value of unknown type accepted")
	}
	// A bad resource is caught whichever span of a batch carries it.
	bad := &model.Resource{Attributes: []model.KeyValue{{Key: "k", Value: model.Value{Type: model.TypeMap + 1}}}}
	var last storableLast
	if !spanStorable(&model.Span{}, &last) || spanStorable(&model.Span{Resource: bad}, &last) || spanStorable(&model.Span{Resource: bad}, &last) {
		t.Error("value of unknown type in a resource accepted")
	}
	// What spanStorable accepts, the decoder reads back.
	s := nest(maxValueDepth - 1)
	s.TraceID, s.SpanID = model.TraceID{1}, model.SpanID{1}
	if _, err := decodeRecord(newRecordEncoder().encode([]*model.Span{s})); err != nil {
		t.Fatalf("accepted span does not decode: %v", err)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(newRecordEncoder().encode(oddSpans()))
	f.Add(newRecordEncoder().encode(storagetest.GenerateTraces(4, 2, 3, testEpoch)))
	f.Add([]byte{recordVersion, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		spans, err := decodeRecord(rec)
		if err != nil {
			if !errors.Is(err, errBadRecord) {
				t.Fatalf("error does not wrap errBadRecord: %v", err)
			}
			return
		}
		// What decodes re-encodes to the same spans.
		again, err := decodeRecord(newRecordEncoder().encode(spans))
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := storagetest.DiffSpans(spans, again); d != "" {
			t.Fatalf("re-encoding changes spans:\n%s", d)
		}
	})
}
