package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

func TestGenerateTraces(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spans := GenerateTraces(42, 50, 12, start)
	if len(spans) != 50*12 {
		t.Fatalf("got %d spans, want %d", len(spans), 50*12)
	}
	if d := DiffSpans(spans, GenerateTraces(42, 50, 12, start)); d != "" {
		t.Errorf("same seed, different spans: %s", d)
	}
	if other := GenerateTraces(43, 1, 1, start); other[0].TraceID == spans[0].TraceID {
		t.Error("different seeds gave the same trace ID")
	}

	traces := byTrace(spans)
	if len(traces) != 50 {
		t.Fatalf("got %d traces, want 50", len(traces))
	}
	kinds := map[model.SpanKind]int{}
	services := map[string]bool{}
	var errs, events, links int
	seenSpan := map[model.SpanID]bool{}
	for i, s := range spans {
		if err := model.Validate(s); err != nil {
			t.Fatalf("span %d: %v", i, err)
		}
		if seenSpan[s.SpanID] {
			t.Fatalf("span ID %s used twice", s.SpanID)
		}
		seenSpan[s.SpanID] = true
		if len(s.Attributes) != GeneratedAttributes {
			t.Errorf("span %d (%s %s) has %d attributes, want %d", i, s.Service(), s.Name, len(s.Attributes), GeneratedAttributes)
		}
		keys := map[string]bool{}
		for _, kv := range s.Attributes {
			if keys[kv.Key] {
				t.Errorf("span %d: attribute %s twice", i, kv.Key)
			}
			keys[kv.Key] = true
		}
		if s.Resource == nil || s.Resource.ServiceName == "" || s.Scope == nil || s.Scope.Name == "" {
			t.Fatalf("span %d lacks a resource or scope", i)
		}
		if v, ok := model.Find(s.Resource.Attributes, "service.name"); !ok || v.Str != s.Resource.ServiceName {
			t.Errorf("span %d: resource service.name %v, ServiceName %q", i, v, s.Resource.ServiceName)
		}
		kinds[s.Kind]++
		services[s.Service()] = true
		if s.StatusCode == model.StatusError {
			errs++
		}
		events += len(s.Events)
		links += len(s.Links)
	}
	for _, k := range []model.SpanKind{model.KindServer, model.KindClient, model.KindInternal, model.KindProducer, model.KindConsumer} {
		if kinds[k] == 0 {
			t.Errorf("no %s spans", k)
		}
	}
	for svc := range services {
		if !slices.Contains(GeneratedServices(), svc) {
			t.Errorf("service %q is not in GeneratedServices", svc)
		}
	}
	if len(services) < 5 || errs == 0 || events == 0 || links == 0 {
		t.Errorf("not realistic enough: %d services, %d errors, %d events, %d links", len(services), errs, events, links)
	}

	// Trace shape: one root, known parents listed before their children,
	// children within their trace's time, trace i in its slot.
	for i := range 50 {
		tr := spans[i*12 : (i+1)*12]
		root := tr[0]
		if !root.IsRoot() || root.Service() != "frontend" || root.Kind != model.KindServer {
			t.Errorf("trace %d: first span is not a frontend server root: %s %s", i, root.Service(), root.Name)
		}
		slot := uint64(start.Add(time.Duration(i) * TraceInterval).UnixNano())
		if root.StartUnixNano < slot || root.StartUnixNano >= slot+uint64(TraceInterval) {
			t.Errorf("trace %d starts outside its slot", i)
		}
		seen := map[model.SpanID]*model.Span{}
		for j, s := range tr {
			if s.TraceID != root.TraceID {
				t.Fatalf("trace %d: spans of two traces interleave", i)
			}
			if j > 0 {
				p := seen[s.ParentSpanID]
				if p == nil {
					t.Fatalf("trace %d span %d: parent not listed before it", i, j)
				}
				if s.Kind != model.KindConsumer && (s.StartUnixNano < p.StartUnixNano || s.EndUnixNano > p.EndUnixNano) {
					t.Errorf("trace %d span %d: [%d, %d] not within its parent [%d, %d]", i, j, s.StartUnixNano, s.EndUnixNano, p.StartUnixNano, p.EndUnixNano)
				}
			}
			seen[s.SpanID] = s
		}
	}
	if GenerateTraces(1, 0, 5, start) != nil {
		t.Error("zero traces gave spans")
	}
	if n := len(GenerateTraces(1, 3, 0, start)); n != 3 {
		t.Errorf("spansPerTrace 0 gave %d spans for 3 traces, want 3", n)
	}
}

func BenchmarkGenerateTraces(b *testing.B) {
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		GenerateTraces(1, 100, 10, start)
	}
}
