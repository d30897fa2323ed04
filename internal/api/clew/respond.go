package clew

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/query"
)

// errorBody is the body of every failed /api/clew response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// statusOf maps an error to its HTTP status: the query layer's bad
// requests are the client's fault, a missing trace is 404, and everything
// else is ours.
func statusOf(err error) int {
	switch {
	case query.IsBadRequest(err):
		return http.StatusBadRequest
	case errors.Is(err, query.ErrNotFound), errors.Is(err, analysis.ErrEmptyTrace):
		return http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func (a *API) respondError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code >= 500 && r.Context().Err() == nil {
		a.logger.Error("clew api", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	a.respond(w, code, errorBody{Error: errorDetail{Status: code, Message: err.Error()}})
}

func (a *API) respond(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// BUG-level: every value handed here is plain data.
		a.logger.Error("clew api: encode response", slog.Any("err", err))
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if _, err := w.Write(body); err != nil {
		a.logger.Debug("clew api: write response", slog.Any("err", err))
	}
}
