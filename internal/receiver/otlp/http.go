package otlp

import (
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/receiver"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TracesPath is where OTLP/HTTP exporters send traces.
const TracesPath = "/v1/traces"

// RegisterHTTP registers "POST /v1/traces" on mux, and "OPTIONS
// /v1/traces" for CORS preflight when Options.AllowedOrigins is set.
// Other methods get 405 from the mux.
func (r *Receiver) RegisterHTTP(mux *http.ServeMux) {
	mux.Handle("POST "+TracesPath, r.withCORS(http.HandlerFunc(r.serveTraces)))
	if len(r.opts.AllowedOrigins) > 0 {
		mux.HandleFunc("OPTIONS "+TracesPath, r.servePreflight)
	}
}

// Handler returns a handler serving only what RegisterHTTP registers, for
// a listener of its own.
func (r *Receiver) Handler() http.Handler { return r.handler }

// format is one of OTLP/HTTP's two encodings. Responses use the
// request's.
type format struct {
	contentType   string
	unmarshal     func(ptraceotlp.ExportRequest, []byte) error
	marshal       func(ptraceotlp.ExportResponse) ([]byte, error)
	marshalStatus func(*spb.Status) ([]byte, error)
}

var (
	protobufFormat = &format{
		contentType:   "application/x-protobuf",
		unmarshal:     ptraceotlp.ExportRequest.UnmarshalProto,
		marshal:       ptraceotlp.ExportResponse.MarshalProto,
		marshalStatus: func(s *spb.Status) ([]byte, error) { return proto.Marshal(s) },
	}
	jsonFormat = &format{
		contentType:   "application/json",
		unmarshal:     ptraceotlp.ExportRequest.UnmarshalJSON,
		marshal:       ptraceotlp.ExportResponse.MarshalJSON,
		marshalStatus: func(s *spb.Status) ([]byte, error) { return protojson.Marshal(s) },
	}
)

func requestFormat(contentType string) *format {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return protobufFormat
	case "application/json":
		return jsonFormat
	}
	return nil
}

func (r *Receiver) serveTraces(w http.ResponseWriter, req *http.Request) {
	f := requestFormat(req.Header.Get("Content-Type"))
	if f == nil {
		http.Error(w, "unsupported Content-Type "+strconv.Quote(req.Header.Get("Content-Type"))+
			": want application/x-protobuf or application/json", http.StatusUnsupportedMediaType)
		return
	}
	body, release, err := receiver.ReadBody(req, r.opts.MaxRequestBytes, r.in.Acquire)
	defer release()
	if err != nil {
		r.respondError(w, f, bodyFailure(err))
		return
	}
	exportReq := ptraceotlp.NewExportRequest()
	if err := f.unmarshal(exportReq, body); err != nil {
		r.respondError(w, f, badData("cannot decode OTLP ExportTraceServiceRequest (%s): %v", f.contentType, err))
		return
	}
	resp, fail := r.consume(req.Context(), ProtocolHTTP, int64(len(body)), exportReq.Traces())
	if fail != nil {
		r.respondError(w, f, fail)
		return
	}
	b, err := f.marshal(resp)
	if err != nil {
		r.log.Error("otlp receiver: encode response", "err", err)
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// bodyFailure maps a receiver.ReadBody error to an answer.
func bodyFailure(err error) *failure {
	switch {
	case errors.Is(err, ingest.ErrOverloaded):
		return overloaded(err)
	case errors.Is(err, receiver.ErrTooLarge):
		return &failure{code: codes.InvalidArgument, http: http.StatusRequestEntityTooLarge, msg: err.Error()}
	case errors.Is(err, receiver.ErrUnsupportedEncoding):
		return &failure{code: codes.InvalidArgument, http: http.StatusUnsupportedMediaType, msg: err.Error()}
	}
	return badData("%v", err)
}

// respondError answers with a google.rpc.Status in the request's
// encoding, as OTLP/HTTP asks, and Retry-After when a retry may succeed.
func (r *Receiver) respondError(w http.ResponseWriter, f *format, fail *failure) {
	st := &spb.Status{Code: int32(fail.code), Message: fail.msg}
	if fail.retry {
		w.Header().Set("Retry-After", retryAfterSeconds(r.opts.RetryAfter))
		if d, err := anypb.New(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.opts.RetryAfter)}); err == nil {
			st.Details = append(st.Details, d)
		}
	}
	b, err := f.marshalStatus(st)
	if err != nil {
		http.Error(w, fail.msg, fail.http)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(fail.http)
	_, _ = w.Write(b)
}

// retryAfterSeconds renders d for Retry-After, which takes whole seconds.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
