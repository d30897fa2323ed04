package zipkin

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"

	"github.com/clew-tracing/clew/internal/ingest"
	modelotlp "github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/receiver"
)

// Protocol labels of the ingest metrics.
const (
	// ProtocolV1 labels spans posted to /api/v1/spans.
	ProtocolV1 = "zipkin_v1"
	// ProtocolV2 labels spans posted to /api/v2/spans, JSON or protobuf.
	ProtocolV2 = "zipkin_v2"
)

// Paths Zipkin reporters post to.
const (
	// V1Path takes Zipkin v1 JSON (legacy reporters).
	V1Path = "/api/v1/spans"
	// V2Path takes Zipkin v2 JSON and protobuf.
	V2Path = "/api/v2/spans"
)

// Receiver answers Zipkin span reports. It is safe for concurrent use.
type Receiver struct {
	in   *ingest.Ingester
	opts Options
	log  *slog.Logger
}

// New returns a Receiver that passes spans to in. opts is copied; zero
// fields take their defaults.
func New(in *ingest.Ingester, opts Options) (*Receiver, error) {
	if in == nil {
		return nil, errors.New("zipkin receiver: nil ingester")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Receiver{in: in, opts: opts, log: opts.Logger}, nil
}

// Register registers "POST /api/v2/spans" and "POST /api/v1/spans" on mux
// and nothing else, so that mux can also serve Zipkin's query API (GET
// patterns on the same paths do not collide).
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+V2Path, r.serveV2)
	mux.HandleFunc("POST "+V1Path, r.serveV1)
}

func (r *Receiver) serveV2(w http.ResponseWriter, req *http.Request) {
	switch mt := mediaType(req); mt {
	case "", "application/json":
		r.serve(w, req, ProtocolV2, decodeV2JSON)
	case "application/x-protobuf", "application/protobuf":
		r.serve(w, req, ProtocolV2, decodeV2Proto)
	default:
		http.Error(w, "unsupported Content-Type "+strconv.Quote(mt)+
			" for Zipkin v2 spans: want application/json or application/x-protobuf", http.StatusUnsupportedMediaType)
	}
}

func (r *Receiver) serveV1(w http.ResponseWriter, req *http.Request) {
	switch mt := mediaType(req); mt {
	case "", "application/json":
		r.serve(w, req, ProtocolV1, decodeV1JSON)
	case "application/x-thrift":
		http.Error(w, "Zipkin v1 Thrift is not supported: send v1 JSON, or v2 JSON or protobuf to "+V2Path,
			http.StatusUnsupportedMediaType)
	default:
		http.Error(w, "unsupported Content-Type "+strconv.Quote(mt)+
			" for Zipkin v1 spans: want application/json", http.StatusUnsupportedMediaType)
	}
}

// mediaType returns the request's media type without parameters; "" when
// absent, which Zipkin servers take as JSON. An unparsable header yields
// the header itself, so that it is refused and named.
func mediaType(req *http.Request) string {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// serve reads, decodes, checks and stores one report.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, protocol string, decode decoder) {
	body, release, err := receiver.ReadBody(req, r.opts.MaxRequestBytes, r.in.Acquire)
	defer release()
	if err != nil {
		r.respondBodyError(w, err)
		return
	}
	d, err := decode(body)
	if err != nil {
		http.Error(w, "cannot decode "+protocol+" request: "+err.Error(), http.StatusBadRequest)
		return
	}
	n := d.spanCount()
	if err := r.in.CheckRequest(n); err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	b := ingest.Batch{Protocol: protocol, Bytes: int64(len(body))}
	for _, err := range d.bad {
		b.Reject(nil, err)
	}
	for _, td := range d.traces {
		b.Spans = append(b.Spans, modelotlp.FromTraces(td, r.in.Check, b.Reject)...)
	}
	if err := r.in.Consume(req.Context(), &b); err != nil {
		r.respondWriteError(w, req.Context(), err)
		return
	}
	if b.Rejected() > 0 {
		if len(b.Spans) == 0 {
			// Nothing could be kept: tell the client, whose reporter
			// logs failed posts.
			http.Error(w, b.Message(), http.StatusBadRequest)
			return
		}
		r.log.Warn("zipkin receiver: spans rejected", "protocol", protocol,
			"accepted", len(b.Spans), "reason", b.Message())
	}
	w.WriteHeader(http.StatusAccepted)
}

func (r *Receiver) respondBodyError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ingest.ErrOverloaded):
		r.respondRetry(w, http.StatusTooManyRequests, err.Error()+"; retry later")
	case errors.Is(err, receiver.ErrTooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
	case errors.Is(err, receiver.ErrUnsupportedEncoding):
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
	default:
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

func (r *Receiver) respondWriteError(w http.ResponseWriter, ctx context.Context, err error) {
	switch {
	case errors.Is(err, ingest.ErrOverloaded):
		r.respondRetry(w, http.StatusTooManyRequests, err.Error()+"; retry later")
	case ctx.Err() != nil:
		http.Error(w, ctx.Err().Error(), http.StatusServiceUnavailable)
	default:
		// NB: the client gets a generic message; the error may name files.
		r.log.Error("zipkin receiver: storage write failed", "err", err)
		r.respondRetry(w, http.StatusServiceUnavailable, "storage unavailable; retry later")
	}
}

func (r *Receiver) respondRetry(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(r.opts.RetryAfter.Seconds())))))
	http.Error(w, msg, code)
}
