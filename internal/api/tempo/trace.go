package tempo

import (
	"encoding/json"
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/storage"
)

// fetchTrace reads the trace named in the path; start and end (Unix
// seconds) tell the backend where to look.
func (a *API) fetchTrace(r *http.Request) (*model.Trace, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	vals := r.URL.Query()
	var hint storage.TimeRange
	if hint.Start, _, err = parseUnixSeconds(vals, "start"); err != nil {
		return nil, err
	}
	if hint.End, _, err = parseUnixSeconds(vals, "end"); err != nil {
		return nil, err
	}
	if hint.End != 0 {
		hint.End += 999_999_999
	}
	return a.q.Trace(r.Context(), id, hint)
}

// traceV1 answers GET /api/traces/{id} for Tempo clients: the protobuf
// Trace message (OTLP TracesData: resource spans in field 1) when asked
// for, else {"batches": [resource spans]}.
func (a *API) traceV1(r *http.Request) (response, error) {
	t, err := a.fetchTrace(r)
	if err != nil {
		return response{}, err
	}
	td := otlp.ToTraces(t.Spans)
	if acceptsProtobuf(r) {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			return response{}, fmt.Errorf("encode trace: %w", err)
		}
		return response{body: b, contentType: "application/protobuf"}, nil
	}
	rs, err := resourceSpansJSON(td)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(traceV1JSON{Batches: rs}), nil
}

type traceV1JSON struct {
	Batches json.RawMessage `json:"batches"`
}

// traceByIDResponse is Tempo's TraceByIDResponse.
type traceByIDResponse struct {
	Trace   traceV2JSON `json:"trace"`
	Status  string      `json:"status"`
	Message string      `json:"message,omitempty"`
}

type traceV2JSON struct {
	ResourceSpans json.RawMessage `json:"resourceSpans"`
}

// traceV2 answers GET /api/v2/traces/{id}: TraceByIDResponse as JSON, or
// as protobuf (the trace in field 1, status COMPLETE) when asked for.
func (a *API) traceV2(r *http.Request) (response, error) {
	t, err := a.fetchTrace(r)
	if err != nil {
		return response{}, err
	}
	td := otlp.ToTraces(t.Spans)
	if acceptsProtobuf(r) {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			return response{}, fmt.Errorf("encode trace: %w", err)
		}
		// TraceByIDResponse{trace = 1}; status 3 is COMPLETE, the
		// default, which protobuf leaves out.
		out := protowire.AppendTag(nil, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
		return response{body: out, contentType: "application/protobuf"}, nil
	}
	rs, err := resourceSpansJSON(td)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(traceByIDResponse{Trace: traceV2JSON{ResourceSpans: rs}, Status: "COMPLETE"}), nil
}

// resourceSpansJSON renders the resource spans of td as OTLP JSON (IDs in
// hex, as the OTLP/JSON encoding prescribes).
func resourceSpansJSON(td ptrace.Traces) (json.RawMessage, error) {
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("encode trace: %w", err)
	}
	var doc struct {
		ResourceSpans json.RawMessage `json:"resourceSpans"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("encode trace: %w", err)
	}
	if doc.ResourceSpans == nil {
		doc.ResourceSpans = json.RawMessage("[]")
	}
	return doc.ResourceSpans, nil
}
