package otlp_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var epoch = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

// Spans survive ToTraces then FromTraces, every field, and resources and
// scopes of equal content come back shared.
func TestRoundTrip(t *testing.T) {
	spans := storagetest.GenerateTraces(1, 50, 12, epoch)
	got := otlp.FromTraces(otlp.ToTraces(spans), nil, nil)
	if d := storagetest.DiffSpans(spans, got); d != "" {
		t.Fatal(d)
	}
	res := map[string]*model.Resource{}
	for _, s := range got {
		if r := res[s.Service()]; r != nil && r != s.Resource {
			t.Fatalf("service %s: two resource objects of equal content", s.Service())
		}
		res[s.Service()] = s.Resource
		if cap(s.Attributes) != len(s.Attributes) {
			t.Fatalf("attributes have spare capacity %d > %d: an append would write into a neighbour", cap(s.Attributes), len(s.Attributes))
		}
	}
}

// One ResourceSpans per span, as some exporters and the load generator
// send them: equal resources and scopes are still shared, and differing
// ones are not.
func TestSharesEqualResources(t *testing.T) {
	td := ptrace.NewTraces()
	for i := range 20 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", []string{"a", "b"}[i%2])
		rs.Resource().Attributes().PutInt("pid", 7)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("lib")
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID([16]byte{1})
		sp.SetSpanID([8]byte{byte(i + 1)})
		sp.SetName("op")
		sp.Attributes().PutStr("k", "v")
	}
	got := otlp.FromTraces(td, nil, nil)
	if len(got) != 20 {
		t.Fatalf("%d spans", len(got))
	}
	if got[0].Resource != got[2].Resource || got[1].Resource != got[3].Resource || got[0].Resource == got[1].Resource {
		t.Error("equal resources not shared, or different ones merged")
	}
	if got[0].Scope != got[1].Scope {
		t.Error("equal scopes not shared")
	}
	if got[1].Service() != "b" || got[0].Service() != "a" {
		t.Errorf("services %q %q", got[0].Service(), got[1].Service())
	}
}

// Rejected spans are reported and left out; the rest keep their order.
func TestKeepReject(t *testing.T) {
	spans := storagetest.GenerateTraces(2, 5, 4, epoch)
	bad := errors.New("bad")
	var rejected int
	got := otlp.FromTraces(otlp.ToTraces(spans), func(s *model.Span) error {
		if s.SpanID == spans[3].SpanID {
			return bad
		}
		return nil
	}, func(s *model.Span, err error) {
		if s.SpanID != spans[3].SpanID || err != bad {
			t.Errorf("rejected %s: %v", s.SpanID, err)
		}
		rejected++
	})
	if rejected != 1 || len(got) != len(spans)-1 {
		t.Fatalf("rejected %d, kept %d of %d", rejected, len(got), len(spans))
	}
}

// BenchmarkFromTraces converts requests of 512 spans: generated traces
// grouped by resource, and the load generator's shape (bench/loadgen: one
// ResourceSpans per span, ten attributes).
func BenchmarkFromTraces(b *testing.B) {
	for _, bc := range []struct {
		name string
		td   ptrace.Traces
	}{
		{"grouped", otlp.ToTraces(storagetest.GenerateTraces(3, 64, 8, epoch))},
		{"resource-per-span", loadgenShape(512)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := bc.td.SpanCount()
			b.ReportAllocs()
			for b.Loop() {
				if got := otlp.FromTraces(bc.td, nil, nil); len(got) != n {
					b.Fatal(len(got))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/span")
		})
	}
}

// loadgenShape builds a request like bench/loadgen's.
func loadgenShape(n int) ptrace.Traces {
	services := []string{"frontend", "catalog", "checkout", "payment", "orders", "inventory"}
	td := ptrace.NewTraces()
	for i := range n {
		svc := services[i%len(services)]
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		rs.Resource().Attributes().PutStr("service.version", "1.4.2")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID([16]byte{byte(i / 8), 1})
		sp.SetSpanID([8]byte{byte(i), 1})
		sp.SetName("GET /api/products")
		sp.SetStartTimestamp(1)
		sp.SetEndTimestamp(2)
		a := sp.Attributes()
		a.PutStr("http.method", []string{"GET", "POST"}[i%2])
		a.PutInt("http.status_code", 200)
		a.PutStr("http.route", "/api/products/{id}")
		a.PutStr("net.peer.name", svc+".internal")
		a.PutInt("net.peer.port", 8080)
		a.PutStr("user.id", fmt.Sprintf("user-%d", i*7%1000))
		a.PutStr("db.system", "postgresql")
		a.PutBool("cache.hit", i%3 == 0)
		a.PutDouble("order.amount", float64(i)/100)
		a.PutStr("region", []string{"eu-west-1", "us-east-1"}[i*5%7%2])
	}
	return td
}
