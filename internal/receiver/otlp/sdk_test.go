package otlp

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

var (
	sdkTraceID  = trace.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	sdkRootID   = trace.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73}
	sdkChildID  = trace.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
	sdkLinkedTr = trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sdkLinkedSp = trace.SpanID{8, 7, 6, 5, 4, 3, 2, 1}
)

// sdkSpans is a root server span and a client child with attributes, an
// event, a link and an error status, as an instrumented app produces them.
func sdkSpans() []sdktrace.ReadOnlySpan {
	start := testNow.Add(-time.Minute)
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("host.name", "h1"))
	scope := instrumentation.Scope{Name: "net/http", Version: "1.2.3"}
	sc := func(id trace.SpanID) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: sdkTraceID, SpanID: id, TraceFlags: trace.FlagsSampled})
	}
	stubs := tracetest.SpanStubs{
		{
			Name:                 "GET /cart",
			SpanContext:          sc(sdkRootID),
			SpanKind:             trace.SpanKindServer,
			StartTime:            start,
			EndTime:              start.Add(50 * time.Millisecond),
			Attributes:           []attribute.KeyValue{attribute.String("http.method", "GET"), attribute.Int("http.status_code", 200)},
			Status:               sdktrace.Status{Code: otelcodes.Ok},
			Resource:             res,
			InstrumentationScope: scope,
		},
		{
			Name:        "SELECT cart",
			SpanContext: sc(sdkChildID),
			Parent:      sc(sdkRootID),
			SpanKind:    trace.SpanKindClient,
			StartTime:   start.Add(10 * time.Millisecond),
			EndTime:     start.Add(20 * time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String("db.system", "postgresql"),
				attribute.Bool("retry", true),
				attribute.Float64("ratio", 0.5),
				attribute.StringSlice("tags", []string{"a", "b"}),
			},
			Events: []sdktrace.Event{{
				Name:       "exception",
				Time:       start.Add(15 * time.Millisecond),
				Attributes: []attribute.KeyValue{attribute.String("exception.message", "deadlock")},
			}},
			Links: []sdktrace.Link{{
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: sdkLinkedTr, SpanID: sdkLinkedSp}),
				Attributes:  []attribute.KeyValue{attribute.String("link.kind", "follows")},
			}},
			Status:               sdktrace.Status{Code: otelcodes.Error, Description: "deadlock detected"},
			Resource:             res,
			InstrumentationScope: scope,
		},
	}
	return stubs.Snapshots()
}

// checkDelivered asserts that the spans of sdkSpans arrived intact.
func checkDelivered(t *testing.T, stored []*model.Span) {
	t.Helper()
	if len(stored) != 2 {
		t.Fatalf("stored %d spans, want 2", len(stored))
	}
	byID := spanIDs(stored)
	root, child := byID[model.SpanID(sdkRootID)], byID[model.SpanID(sdkChildID)]
	if root == nil || child == nil {
		t.Fatalf("span ids not found: %v", byID)
	}
	start := uint64(testNow.Add(-time.Minute).UnixNano())
	for _, s := range stored {
		if s.TraceID != model.TraceID(sdkTraceID) {
			t.Errorf("trace id %s, want %s", s.TraceID, sdkTraceID)
		}
		if s.Service() != "checkout" || s.Scope == nil || s.Scope.Name != "net/http" || s.Scope.Version != "1.2.3" {
			t.Errorf("span %s: service %q scope %+v", s.Name, s.Service(), s.Scope)
		}
		if v, ok := model.Find(s.Resource.Attributes, "host.name"); !ok || v.Str != "h1" {
			t.Errorf("resource attribute host.name = %+v", v)
		}
	}
	if !root.IsRoot() || root.Name != "GET /cart" || root.Kind != model.KindServer || root.StatusCode != model.StatusOK {
		t.Errorf("root = %+v", root)
	}
	if root.StartUnixNano != start || root.EndUnixNano != start+uint64(50*time.Millisecond) {
		t.Errorf("root times %d..%d", root.StartUnixNano, root.EndUnixNano)
	}
	if v, _ := model.Find(root.Attributes, "http.status_code"); v.Type != model.TypeInt || v.Int != 200 {
		t.Errorf("http.status_code = %+v", v)
	}
	if child.ParentSpanID != model.SpanID(sdkRootID) || child.Kind != model.KindClient || child.Name != "SELECT cart" {
		t.Errorf("child = %+v", child)
	}
	if child.StatusCode != model.StatusError || child.StatusMessage != "deadlock detected" {
		t.Errorf("child status %v %q", child.StatusCode, child.StatusMessage)
	}
	if v, _ := model.Find(child.Attributes, "retry"); v.Type != model.TypeBool || !v.Bool() {
		t.Errorf("retry = %+v", v)
	}
	if v, _ := model.Find(child.Attributes, "ratio"); v.Type != model.TypeDouble || v.Double != 0.5 {
		t.Errorf("ratio = %+v", v)
	}
	if v, _ := model.Find(child.Attributes, "tags"); v.Type != model.TypeArray || len(v.Array) != 2 || v.Array[1].Str != "b" {
		t.Errorf("tags = %+v", v)
	}
	if len(child.Events) != 1 || child.Events[0].Name != "exception" || child.Events[0].TimeUnixNano != start+uint64(15*time.Millisecond) {
		t.Fatalf("events = %+v", child.Events)
	}
	if v, _ := model.Find(child.Events[0].Attributes, "exception.message"); v.Str != "deadlock" {
		t.Errorf("event attribute = %+v", v)
	}
	if len(child.Links) != 1 || child.Links[0].TraceID != model.TraceID(sdkLinkedTr) || child.Links[0].SpanID != model.SpanID(sdkLinkedSp) {
		t.Fatalf("links = %+v", child.Links)
	}
	if v, _ := model.Find(child.Links[0].Attributes, "link.kind"); v.Str != "follows" {
		t.Errorf("link attribute = %+v", v)
	}
}

func TestSDKExporterGRPC(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	addr := serveGRPC(t, fx.r, NewGRPCServer(0))
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(addr),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithCompressor("gzip"),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	if err := exp.ExportSpans(ctx, sdkSpans()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, fx.w.Stored())
}

func TestSDKExporterHTTP(t *testing.T) {
	for _, enc := range []otlptracehttp.Compression{otlptracehttp.GzipCompression, otlptracehttp.NoCompression} {
		fx := newFixture(t, ingest.Options{}, Options{})
		srv := httptest.NewServer(fx.r.Handler())
		ctx := context.Background()
		tr := &http.Transport{}
		exp, err := otlptracehttp.New(ctx,
			otlptracehttp.WithEndpoint(strings.TrimPrefix(srv.URL, "http://")),
			otlptracehttp.WithInsecure(),
			otlptracehttp.WithCompression(enc),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
			otlptracehttp.WithHTTPClient(&http.Client{Transport: tr}),
		)
		if err != nil {
			t.Fatal(err)
		}
		if err := exp.ExportSpans(ctx, sdkSpans()); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, fx.w.Stored())
		_ = exp.Shutdown(ctx)
		tr.CloseIdleConnections()
		srv.Close()
	}
}

// serveGRPC registers r on s and serves s at a loopback port until the test ends.
func serveGRPC(t *testing.T, r *Receiver, s *grpc.Server) string {
	t.Helper()
	r.Register(s)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}
