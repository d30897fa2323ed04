// Package queue is the demo shop's message queue: an in-memory topic that
// carries the W3C trace context in message headers, so that a consumer
// can link its work to the producer's span the way Kafka or RabbitMQ
// instrumentation does.
//
// The consumer's span starts a new trace and links to the producer span
// (the OpenTelemetry messaging convention for work that is done later, in
// batches, or by a different owner): the trace of the order stays short,
// and the shipment's trace points back to it.
package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("queue closed")

// Attribute keys of messaging spans (OpenTelemetry semantic conventions).
const (
	KeySystem      = attribute.Key("messaging.system")
	KeyDestination = attribute.Key("messaging.destination.name")
	KeyOperation   = attribute.Key("messaging.operation.type")
	KeyMessageID   = attribute.Key("messaging.message.id")
	KeyBodySize    = attribute.Key("messaging.message.body.size")
)

// System is the messaging.system value of the queue.
const System = "clew-demo-queue"

// Message is one queued message.
type Message struct {
	ID      string
	Headers map[string]string // carries traceparent and tracestate
	Body    []byte
}

// Queue is one topic with a bounded buffer. Publish and Consume are safe
// for concurrent use.
type Queue struct {
	name string
	prop propagation.TextMapPropagator

	mu     sync.RWMutex
	closed bool
	ch     chan Message
	seq    int
}

// New returns a topic buffering up to capacity messages; prop injects and
// extracts the trace context (W3C trace context in the shop).
func New(name string, capacity int, prop propagation.TextMapPropagator) *Queue {
	return &Queue{name: name, prop: prop, ch: make(chan Message, capacity)}
}

// Name returns the topic's name.
func (q *Queue) Name() string { return q.name }

// Publish sends body, in a producer span of tracer that is a child of
// ctx's span and whose context travels in the message headers. It blocks
// while the buffer is full, until ctx ends.
func (q *Queue) Publish(ctx context.Context, tracer trace.Tracer, body []byte) error {
	ctx, span := tracer.Start(ctx, "publish "+q.name,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			KeySystem.String(System),
			KeyDestination.String(q.name),
			KeyOperation.String("publish"),
			KeyBodySize.Int(len(body)),
		))
	defer span.End()
	err := q.publish(ctx, span, body)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

func (q *Queue) publish(ctx context.Context, span trace.Span, body []byte) error {
	// NB: the read lock is held while blocked on a full buffer, so Close
	// waits for such a publisher (or its ctx) instead of closing the
	// channel under it.
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	msg := Message{Headers: map[string]string{}, Body: body}
	q.prop.Inject(ctx, propagation.MapCarrier(msg.Headers))
	msg.ID = fmt.Sprintf("%s-%s", q.name, span.SpanContext().SpanID())
	span.SetAttributes(KeyMessageID.String(msg.ID))
	select {
	case q.ch <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops publishing; Consume returns once it has handled every
// message already published.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}

// Handler processes one message; ctx carries the consumer span.
type Handler func(ctx context.Context, msg Message) error

// Consume handles messages one at a time until the queue is closed and
// drained. Each message gets a consumer span of tracer that starts a new
// trace and links to the producer span; a handler error is recorded on it.
func (q *Queue) Consume(ctx context.Context, tracer trace.Tracer, handle Handler) {
	for msg := range q.ch {
		q.handle(ctx, tracer, msg, handle)
	}
}

func (q *Queue) handle(ctx context.Context, tracer trace.Tracer, msg Message, handle Handler) {
	producer := trace.SpanContextFromContext(q.prop.Extract(context.Background(), propagation.MapCarrier(msg.Headers)))
	opts := []trace.SpanStartOption{
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			KeySystem.String(System),
			KeyDestination.String(q.name),
			KeyOperation.String("process"),
			KeyMessageID.String(msg.ID),
			KeyBodySize.Int(len(msg.Body)),
		),
	}
	if producer.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{
			SpanContext: producer,
			Attributes:  []attribute.KeyValue{KeyOperation.String("publish")},
		}))
	}
	ctx, span := tracer.Start(ctx, "process "+q.name, opts...)
	defer span.End()
	if err := handle(ctx, msg); err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}
