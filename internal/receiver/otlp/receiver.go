package otlp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/ingest"
	modelotlp "github.com/clew-tracing/clew/internal/model/otlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
)

// Protocol labels of the ingest metrics.
const (
	// ProtocolGRPC labels spans received over OTLP/gRPC.
	ProtocolGRPC = "otlp_grpc"
	// ProtocolHTTP labels spans received over OTLP/HTTP, protobuf or JSON.
	ProtocolHTTP = "otlp_http"
)

// Receiver answers OTLP trace exports over gRPC and HTTP. It is safe for
// concurrent use.
type Receiver struct {
	// NB: embedded only to satisfy ptraceotlp.GRPCServer's unexported
	// method; every method it provides is overridden.
	ptraceotlp.UnimplementedGRPCServer

	in      *ingest.Ingester
	opts    Options
	log     *slog.Logger
	handler http.Handler
}

var _ ptraceotlp.GRPCServer = (*Receiver)(nil)

// New returns a Receiver that passes spans to in. opts is copied; zero
// fields take their defaults.
func New(in *ingest.Ingester, opts Options) (*Receiver, error) {
	if in == nil {
		return nil, errors.New("otlp receiver: nil ingester")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Receiver{in: in, opts: opts, log: opts.Logger}
	mux := http.NewServeMux()
	r.RegisterHTTP(mux)
	r.handler = mux
	return r, nil
}

// failure is an outcome other than success, with what each transport
// needs to answer it.
type failure struct {
	code  codes.Code // gRPC code, also the code of the HTTP google.rpc.Status
	http  int        // HTTP status
	msg   string
	retry bool // suggest a retry delay (RetryInfo, Retry-After)
}

func badData(format string, args ...any) *failure {
	return &failure{code: codes.InvalidArgument, http: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// overloaded answers a request refused by the in-flight budget or by
// storage: OTLP says ResourceExhausted with RetryInfo, 429 over HTTP.
func overloaded(err error) *failure {
	return &failure{code: codes.ResourceExhausted, http: http.StatusTooManyRequests, msg: err.Error() + "; retry later", retry: true}
}

// consume converts td, refusing invalid spans one by one, and writes the
// rest. size is the request's encoded size, for metrics.
func (r *Receiver) consume(ctx context.Context, protocol string, size int64, td ptrace.Traces) (ptraceotlp.ExportResponse, *failure) {
	if err := r.in.CheckRequest(td.SpanCount()); err != nil {
		return ptraceotlp.ExportResponse{}, &failure{code: codes.InvalidArgument, http: http.StatusRequestEntityTooLarge, msg: err.Error()}
	}
	b := ingest.Batch{Protocol: protocol, Bytes: size}
	b.Spans = modelotlp.FromTraces(td, r.in.Check, b.Reject)
	if err := r.in.Consume(ctx, &b); err != nil {
		return ptraceotlp.ExportResponse{}, r.writeFailure(ctx, err)
	}
	resp := ptraceotlp.NewExportResponse()
	if n := b.Rejected(); n > 0 {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(int64(n))
		ps.SetErrorMessage(b.Message())
	}
	return resp, nil
}

// writeFailure turns an error from Ingester.Consume into an answer.
func (r *Receiver) writeFailure(ctx context.Context, err error) *failure {
	switch {
	case errors.Is(err, ingest.ErrOverloaded):
		return overloaded(err)
	case ctx.Err() != nil:
		// The client gave up; it will not read the answer.
		return &failure{code: codes.Canceled, http: http.StatusServiceUnavailable, msg: ctx.Err().Error()}
	}
	// NB: the client gets a generic message; the error may name files.
	r.log.Error("otlp receiver: storage write failed", "err", err)
	return &failure{code: codes.Unavailable, http: http.StatusServiceUnavailable, msg: "storage unavailable; retry later", retry: true}
}
