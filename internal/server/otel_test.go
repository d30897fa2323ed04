package server

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// emitTrace sends one three-span trace (server → client → child service)
// through exp with the real OTel SDK and returns its trace ID.
func emitTrace(t *testing.T, exp sdktrace.SpanExporter, service string) trace.TraceID {
	t.Helper()
	ctx := context.Background()
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service), attribute.String("team", "payments"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	tr := tp.Tracer("clew-test", trace.WithInstrumentationVersion("1.2.3"))
	ctx, root := tr.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.method", "GET"), attribute.Int("http.status_code", 500)))
	_, child := tr.Start(ctx, "charge card", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Float64("amount", 12.5), attribute.Bool("retry", true)))
	child.AddEvent("exception", trace.WithAttributes(attribute.String("exception.type", "Timeout")))
	child.SetStatus(codes.Error, "bank timed out")
	time.Sleep(2 * time.Millisecond)
	child.End()
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("exporter: %v", err)
	}
	return root.SpanContext().TraceID()
}

func TestOTelSDKExporters(t *testing.T) {
	ts := startServer(t, testConfig(t.TempDir()))
	ctx := context.Background()
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(ts.srv.Addr("otlp-grpc")),
		otlptracegrpc.WithInsecure(), otlptracegrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(ts.srv.Addr("otlp-http")),
		otlptracehttp.WithInsecure(), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	for name, exp := range map[string]sdktrace.SpanExporter{"grpc": grpcExp, "http": httpExp} {
		t.Run(name, func(t *testing.T) {
			svc := "shop-" + name
			id := emitTrace(t, exp, svc)

			var got jaegerTraces
			getJSON(t, ts.url("http", "/api/traces/"+id.String()), 200, &got)
			if len(got.Data) != 1 || got.Data[0].TraceID != id.String() || len(got.Data[0].Spans) != 2 {
				t.Fatalf("trace %s: %+v", id, got)
			}
			tr := got.Data[0]
			byName := map[string]int{}
			for i, s := range tr.Spans {
				byName[s.OperationName] = i
				if tr.Processes[s.ProcessID].ServiceName != svc {
					t.Errorf("span %s: service %q", s.OperationName, tr.Processes[s.ProcessID].ServiceName)
				}
			}
			root, child := tr.Spans[byName["GET /checkout"]], tr.Spans[byName["charge card"]]
			if len(child.References) != 1 || child.References[0].RefType != "CHILD_OF" || child.References[0].SpanID != root.SpanID {
				t.Errorf("child references = %+v, want CHILD_OF %s", child.References, root.SpanID)
			}
			tags := map[string]any{}
			for _, tg := range child.Tags {
				tags[tg.Key] = tg.Value
			}
			if tags["span.kind"] != "client" || tags["error"] != true || tags["amount"] != 12.5 {
				t.Errorf("child tags = %v", tags)
			}

			// Search finds it by service, operation and tag, newest first.
			q := url.Values{"service": {svc}, "operation": {"charge card"}, "tags": {`{"retry":"true"}`}, "lookback": {"1h"}}
			var found jaegerTraces
			getJSON(t, ts.url("http", "/api/traces?"+q.Encode()), 200, &found)
			if len(found.Data) != 1 || found.Data[0].TraceID != id.String() {
				t.Errorf("search %v found %d traces", q, len(found.Data))
			}
			var svcs struct{ Data []string }
			getJSON(t, ts.url("http", "/api/services"), 200, &svcs)
			if !contains(svcs.Data, svc) {
				t.Errorf("services %v lack %s", svcs.Data, svc)
			}
			var ops struct{ Data []string }
			getJSON(t, ts.url("http", "/api/services/"+svc+"/operations"), 200, &ops)
			if fmt.Sprint(ops.Data) != "[GET /checkout charge card]" {
				t.Errorf("operations = %v", ops.Data)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
