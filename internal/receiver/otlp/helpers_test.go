package otlp

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	modelotlp "github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// testNow is the fixed clock of every test ingester.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	w  *storagetest.Recorder
	in *ingest.Ingester
	r  *Receiver
}

func newFixture(t testing.TB, io ingest.Options, o Options) *fixture {
	t.Helper()
	w := &storagetest.Recorder{}
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
