package zipkin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/query"
)

func (a *API) respond(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// BUG-level: every value handed here is plain data.
		a.logger.Error("zipkin: encode response", slog.Any("err", err))
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(body); err != nil {
		a.logger.Debug("zipkin: write response", slog.Any("err", err))
	}
}

// respondError answers in plain text, as Zipkin does: 400 for the query
// layer's bad requests, 404 for a missing trace, 500 otherwise.
func (a *API) respondError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case query.IsBadRequest(err):
		code = http.StatusBadRequest
	case errors.Is(err, query.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	}
	http.Error(w, err.Error(), code)
}
