package queue

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPublishConsumeLinks(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := tp.Tracer("test")
	q := New("shipments", 4, propagation.TraceContext{})

	var mu sync.Mutex
	var bodies []string
	var consumerCtx trace.SpanContext
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Consume(context.Background(), tr, func(ctx context.Context, m Message) error {
			mu.Lock()
			defer mu.Unlock()
			bodies = append(bodies, string(m.Body))
			consumerCtx = trace.SpanContextFromContext(ctx)
			if string(m.Body) == "bad" {
				return errors.New("no such address")
			}
			return nil
		})
	}()

	ctx, order := tr.Start(context.Background(), "POST /orders")
	if err := q.Publish(ctx, tr, []byte("order-1")); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(ctx, tr, []byte("bad")); err != nil {
		t.Fatal(err)
	}
	order.End()
	q.Close()
	<-done
	if err := q.Publish(ctx, tr, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("publish after close: %v", err)
	}

	if len(bodies) != 2 || bodies[0] != "order-1" {
		t.Fatalf("consumed %q", bodies)
	}
	if !consumerCtx.IsValid() {
		t.Error("handler ctx has no span")
	}
	var producers, consumers []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.SpanKind() {
		case trace.SpanKindProducer:
			producers = append(producers, s)
		case trace.SpanKindConsumer:
			consumers = append(consumers, s)
		}
	}
	if len(producers) != 3 || len(consumers) != 2 {
		t.Fatalf("%d producer and %d consumer spans", len(producers), len(consumers))
	}
	for i, c := range consumers {
		p := producers[i]
		if p.Parent().SpanID() != order.SpanContext().SpanID() {
			t.Error("producer span is not a child of the caller")
		}
		if c.SpanContext().TraceID() == p.SpanContext().TraceID() || c.Parent().IsValid() {
			t.Error("consumer span did not start a new trace")
		}
		if len(c.Links()) != 1 || c.Links()[0].SpanContext.SpanID() != p.SpanContext().SpanID() ||
			c.Links()[0].SpanContext.TraceID() != p.SpanContext().TraceID() {
			t.Errorf("consumer links %+v, want the producer span", c.Links())
		}
		if c.Name() != "process shipments" || p.Name() != "publish shipments" {
			t.Errorf("names %q %q", p.Name(), c.Name())
		}
	}
	if consumers[1].Status().Code.String() != "Error" {
		t.Errorf("failed handler: status %v", consumers[1].Status())
	}
	if producers[2].Status().Code.String() != "Error" {
		t.Errorf("publish after close: status %v", producers[2].Status())
	}
}
