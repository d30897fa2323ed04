package otlp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	modelotlp "github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/storage"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
)

// dialGRPC serves fx's receiver on s and returns a client connection.
func dialGRPC(t *testing.T, fx *fixture, s *grpc.Server) *grpc.ClientConn {
	t.Helper()
	addr := serveGRPC(t, fx.r, s)
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func export(t *testing.T, conn *grpc.ClientConn, spans ...*model.Span) (ptraceotlp.ExportResponse, error) {
	t.Helper()
	req := ptraceotlp.NewExportRequestFromTraces(modelotlp.ToTraces(spans))
	return ptraceotlp.NewGRPCClient(conn).Export(context.Background(), req, grpc.UseCompressor(gzip.Name))
}

// wantStatus asserts err's gRPC code and, when retry is set, a RetryInfo
// detail of one second.
func wantStatus(t *testing.T, err error, code codes.Code, retry bool) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("error %v, want code %v", err, code)
	}
	var ri *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			ri = r
		}
	}
	if retry && (ri == nil || ri.GetRetryDelay().AsDuration() != time.Second) {
		t.Fatalf("status %v: RetryInfo %v, want 1s", st, ri)
	}
	if !retry && ri != nil {
		t.Fatalf("status %v has RetryInfo", st)
	}
	return st
}

func TestGRPCOnPlainServer(t *testing.T) {
	// Register must work on a server that NewGRPCServer did not make,
	// through pdata's codec.
	fx := newFixture(t, ingest.Options{}, Options{})
	conn := dialGRPC(t, fx, grpc.NewServer())
	resp, err := export(t, conn, span(1), span(2))
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedSpans() != 0 {
		t.Fatalf("partial success %v", resp.PartialSuccess().ErrorMessage())
	}
	if got := len(fx.w.Stored()); got != 2 {
		t.Fatalf("stored %d spans", got)
	}
	// An undecodable request is InvalidArgument here too.
	err = conn.Invoke(context.Background(), exportMethod, &wireMessage{b: []byte{0xff, 0xff}}, &wireMessage{})
	wantStatus(t, err, codes.InvalidArgument, false)
}

func TestGRPCBadInput(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	conn := dialGRPC(t, fx, NewGRPCServer(0))
	if _, err := export(t, conn, span(1)); err != nil {
		t.Fatal(err)
	}

	// Undecodable: field 1 claims more bytes than there are.
	err := conn.Invoke(context.Background(), exportMethod, &wireMessage{b: []byte{0x0a, 0x10, 0x01}}, &wireMessage{})
	st := wantStatus(t, err, codes.InvalidArgument, false)
	if st.Message() == "" {
		t.Fatal("no message")
	}

	// Mixed valid and invalid spans: partial success.
	zeroSpan := span(3)
	zeroSpan.SpanID = model.SpanID{}
	backwards := span(4)
	backwards.EndUnixNano = backwards.StartUnixNano - 1
	zeroTrace := span(5)
	zeroTrace.TraceID = model.TraceID{}
	resp, err := export(t, conn, span(6), zeroSpan, backwards, span(7), zeroTrace)
	if err != nil {
		t.Fatal(err)
	}
	ps := resp.PartialSuccess()
	if ps.RejectedSpans() != 3 {
		t.Fatalf("rejected %d spans, want 3", ps.RejectedSpans())
	}
	want := "3 spans rejected: span id is all zero (1); span ends before it starts (1); trace id is all zero (1)"
	if ps.ErrorMessage() != want {
		t.Fatalf("message %q, want %q", ps.ErrorMessage(), want)
	}
	got := spanIDs(fx.w.Stored())
	if len(got) != 3 || got[span(1).SpanID] == nil || got[span(6).SpanID] == nil || got[span(7).SpanID] == nil {
		t.Fatalf("stored %v, want spans 1, 6 and 7", got)
	}
}

func TestGRPCTooManySpans(t *testing.T) {
	fx := newFixture(t, ingest.Options{MaxSpansPerRequest: 1}, Options{})
	conn := dialGRPC(t, fx, NewGRPCServer(0))
	_, err := export(t, conn, span(1), span(2))
	wantStatus(t, err, codes.InvalidArgument, false)
	if len(fx.w.Stored()) != 0 {
		t.Fatal("stored spans of a refused request")
	}
}

func TestGRPCOverload(t *testing.T) {
	fx := newFixture(t, ingest.Options{MaxInFlightBytes: 1000}, Options{})
	conn := dialGRPC(t, fx, NewGRPCServer(0))
	hold, err := fx.in.Acquire(1000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = export(t, conn, span(1))
	wantStatus(t, err, codes.ResourceExhausted, true)
	hold()
	if _, err := export(t, conn, span(1)); err != nil {
		t.Fatalf("after the budget freed up: %v", err)
	}
}

func TestGRPCStorageErrors(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	conn := dialGRPC(t, fx, NewGRPCServer(0))

	fx.w.SetErr(errors.New("disk /var/lib/clew full"))
	_, err := export(t, conn, span(1))
	st := wantStatus(t, err, codes.Unavailable, true)
	if st.Message() != "storage unavailable; retry later" {
		t.Fatalf("message %q", st.Message())
	}

	fx.w.SetErr(storage.ErrOverloaded)
	_, err = export(t, conn, span(1))
	wantStatus(t, err, codes.ResourceExhausted, true)
}

func TestGRPCMaxRecvMsgSize(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	conn := dialGRPC(t, fx, NewGRPCServer(100))
	big := span(1)
	big.Name = string(make([]byte, 200))
	_, err := export(t, conn, big)
	wantStatus(t, err, codes.ResourceExhausted, false)
}

func TestExportDirect(t *testing.T) {
	// Export serves callers that decode requests themselves.
	fx := newFixture(t, ingest.Options{}, Options{})
	bad := span(2)
	bad.SpanID = model.SpanID{}
	resp, err := fx.r.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(modelotlp.ToTraces([]*model.Span{span(1), bad})))
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedSpans() != 1 || len(fx.w.Stored()) != 1 {
		t.Fatalf("rejected %d, stored %d", resp.PartialSuccess().RejectedSpans(), len(fx.w.Stored()))
	}
	hold, _ := fx.in.Acquire(ingest.DefaultMaxInFlightBytes)
	defer hold()
	_, err = fx.r.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(modelotlp.ToTraces([]*model.Span{span(1)})))
	wantStatus(t, err, codes.ResourceExhausted, true)
}
