package db

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQuerySpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	d := New(tp.Tracer("test"), Options{System: "postgresql", Name: "shop", Server: "pg.internal", Port: 5432})

	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	if err := d.Query(ctx, "select * from products where id = $1", 1); err != nil {
		t.Fatal(err)
	}
	parent.End()

	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "SELECT shop" || s.SpanKind() != trace.SpanKindClient {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if s.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Error("query span is not a child of the caller's span")
	}
	want := map[attribute.Key]string{
		KeySystem: "postgresql", KeyName: "shop", KeyOperation: "SELECT",
		KeyStatement: "select * from products where id = $1", KeyServer: "pg.internal",
	}
	got := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		got[kv.Key] = kv.Value.Emit()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if got[KeyRows] != "1" {
		t.Errorf("rows = %q", got[KeyRows])
	}
}

func TestQueryCancelled(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	d := New(tp.Tracer("test"), Options{System: "redis", Name: "cart"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Query(ctx, "HGET cart:1", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	s := rec.Ended()[0]
	if s.Status().Code != codes.Error || len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
		t.Errorf("status %v events %v", s.Status(), s.Events())
	}
}
