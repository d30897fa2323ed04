// Package db is the demo shop's database layer: it has no database behind
// it, but every query makes the client span a real driver's
// instrumentation would (kind client, db.system, db.name, db.statement,
// db.operation, server.address) and takes a realistic few milliseconds.
// That is all a trace shows of a database, so the analysis sees the
// same thing it would see in production.
package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of database client spans (OpenTelemetry semantic
// conventions; db.statement is the name most backends and UIs know).
const (
	KeySystem    = attribute.Key("db.system")
	KeyName      = attribute.Key("db.name")
	KeyStatement = attribute.Key("db.statement")
	KeyOperation = attribute.Key("db.operation")
	KeyRows      = attribute.Key("db.response.returned_rows")
	KeyServer    = attribute.Key("server.address")
	KeyPort      = attribute.Key("server.port")
)

// Options describe one database as its clients see it.
type Options struct {
	// System is the db.system value: postgresql, redis, elasticsearch, ...
	System string
	// Name is the database (or index, or keyspace) name.
	Name string
	// Server and Port are where the database would be.
	Server string
	Port   int
	// Latency is the typical time of one query; each query takes between
	// half and twice that. Zero means 2ms.
	Latency time.Duration
	// Seed makes the latencies reproducible.
	Seed uint64
}

// DB issues queries as spans. It is safe for concurrent use.
type DB struct {
	opts   Options
	tracer trace.Tracer

	mu  sync.Mutex
	rng *rand.Rand
}

// New returns a database whose query spans the tracer makes (the tracer
// of the service that owns the client).
func New(tracer trace.Tracer, opts Options) *DB {
	if opts.Latency <= 0 {
		opts.Latency = 2 * time.Millisecond
	}
	return &DB{opts: opts, tracer: tracer, rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed))}
}

// Query runs one statement: a client span named "<operation> <name>"
// (e.g. "SELECT shop") lasting a few milliseconds, returning rows rows. It
// returns ctx's error if ctx ends first, recorded on the span.
func (d *DB) Query(ctx context.Context, statement string, rows int) error {
	return d.QueryTook(ctx, statement, rows, d.latency())
}

// QueryTook is Query with a given duration, for a slow query.
func (d *DB) QueryTook(ctx context.Context, statement string, rows int, took time.Duration) error {
	op := operation(statement)
	ctx, span := d.tracer.Start(ctx, fmt.Sprintf("%s %s", op, d.opts.Name),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			KeySystem.String(d.opts.System),
			KeyName.String(d.opts.Name),
			KeyStatement.String(statement),
			KeyOperation.String(op),
			KeyServer.String(d.opts.Server),
			KeyPort.Int(d.opts.Port),
		))
	defer span.End()
	if err := sleep(ctx, took); err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	span.SetAttributes(KeyRows.Int(rows))
	return nil
}

// latency draws a query time between half and twice the typical one.
func (d *DB) latency() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.opts.Latency
	return l/2 + time.Duration(d.rng.Int64N(int64(l)*3/2+1))
}

// operation is the statement's first word, upper-cased: SELECT, HGET, ...
func operation(statement string) string {
	op, _, _ := strings.Cut(strings.TrimSpace(statement), " ")
	return strings.ToUpper(op)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
