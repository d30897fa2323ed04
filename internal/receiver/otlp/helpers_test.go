package otlp

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	modelotlp "github.com/clew-tracing/clew/internal/model/otlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// fakeWriter is an in-memory storage.Writer that records what it stores
// and can be told to fail or to block.
type fakeWriter struct {
	mu    sync.Mutex
	spans []*model.Span
	err   error
	// block, when set, makes Write announce itself on entered and wait
	// until block is closed or ctx is done.
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeWriter) Write(ctx context.Context, spans []*model.Span) error {
	f.mu.Lock()
	block, entered, err := f.block, f.entered, f.err
	f.mu.Unlock()
	if block != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, spans...)
	return nil
}

func (f *fakeWriter) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// unblock lets blocked writes finish and later ones pass straight through.
func (f *fakeWriter) unblock() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.block)
	f.block, f.entered = nil, nil
}

func (f *fakeWriter) stored() []*model.Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*model.Span(nil), f.spans...)
}

// testNow is the fixed clock of every test ingester.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	w  *fakeWriter
	in *ingest.Ingester
	r  *Receiver
}

func newFixture(t testing.TB, io ingest.Options, o Options) *fixture {
	t.Helper()
	w := &fakeWriter{}
	if io.Now == nil {
		io.Now = func() time.Time { return testNow }
	}
	io.Logger = quietLogger
	in, err := ingest.New(w, io)
	if err != nil {
		t.Fatal(err)
	}
	o.Logger = quietLogger
	r, err := New(in, o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{w: w, in: in, r: r}
}

// span returns a valid span of trace 1 with the given span ID byte.
func span(id byte) *model.Span {
	start := uint64(testNow.Add(-time.Minute).UnixNano())
	return &model.Span{
		TraceID:       model.TraceID{0: 0xab, 15: 1},
		SpanID:        model.SpanID{0: 0xcd, 7: id},
		Name:          "op",
		Kind:          model.KindServer,
		StartUnixNano: start,
		EndUnixNano:   start + uint64(time.Millisecond),
		Resource:      &model.Resource{ServiceName: "svc", Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue("svc")}}},
		Scope:         &model.Scope{Name: "lib"},
	}
}

// encode returns spans as an OTLP request in protobuf or JSON.
func encode(t testing.TB, json bool, spans ...*model.Span) []byte {
	t.Helper()
	req := ptraceotlp.NewExportRequestFromTraces(modelotlp.ToTraces(spans))
	var b []byte
	var err error
	if json {
		b, err = req.MarshalJSON()
	} else {
		b, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spanIDs(spans []*model.Span) map[model.SpanID]*model.Span {
	m := make(map[model.SpanID]*model.Span, len(spans))
	for _, s := range spans {
		m[s.SpanID] = s
	}
	return m
}
