package jaeger

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/query"
)

// v1Envelope is the v1 response body. Jaeger's offset is dead code and
// its limit is always 0; both are kept because clients decode them.
type v1Envelope struct {
	Data   any       `json:"data"`
	Total  int       `json:"total"`
	Limit  int       `json:"limit"`
	Offset int       `json:"offset"`
	Errors []v1Error `json:"errors"`
}

// v1Error is one entry of the envelope's errors; TraceID names the trace
// a multi-get could not find.
type v1Error struct {
	Code    int    `json:"code,omitempty"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID,omitempty"`
}

// v1Result is what a v1 handler answers: data, its element count, and
// errors that do not fail the request (traces a multi-get did not find).
type v1Result struct {
	data   any
	total  int
	errors []v1Error
}

// statusOf maps an error to its HTTP status: the query layer's bad
// requests are the client's fault, a missing trace is 404, and everything
// else is ours.
func statusOf(err error) int {
	switch {
	case query.IsBadRequest(err):
		return http.StatusBadRequest
	case errors.Is(err, query.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, errMetricsUnsupported):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

func (a *API) v1Respond(w http.ResponseWriter, res *v1Result) {
	a.writeJSON(w, http.StatusOK, v1Envelope{Data: res.data, Total: res.total, Errors: res.errors})
}

func (a *API) v1RespondError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	a.writeJSON(w, code, v1Envelope{Errors: []v1Error{{Code: code, Msg: err.Error()}}})
}

// v3Error is api_v3's error body, the grpc-gateway shape.
type v3Error struct {
	Error v3ErrorDetails `json:"error"`
}

type v3ErrorDetails struct {
	HTTPCode int    `json:"httpCode"`
	Message  string `json:"message"`
}

func (a *API) v3Respond(w http.ResponseWriter, res any) {
	a.writeJSON(w, http.StatusOK, res)
}

func (a *API) v3RespondError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	a.writeJSON(w, code, v3Error{Error: v3ErrorDetails{HTTPCode: code, Message: err.Error()}})
}

func (a *API) writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// BUG-level: every value handed here is plain data.
		a.logger.Error("jaeger: encode response", slog.Any("err", err))
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if _, err := w.Write(body); err != nil {
		a.logger.Debug("jaeger: write response", slog.Any("err", err))
	}
}
