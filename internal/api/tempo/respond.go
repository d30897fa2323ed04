package tempo

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/query"
)

// response is what a handler answers: a value sent as JSON, or a body
// with its content type (protobuf).
type response struct {
	json        any
	body        []byte
	contentType string
}

func jsonResponse(v any) response { return response{json: v} }

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
	}
	return http.StatusInternalServerError
}

func (a *API) respond(w http.ResponseWriter, res response) {
	body, ct := res.body, res.contentType
	if res.json != nil {
		var err error
		if body, err = json.Marshal(res.json); err != nil {
			// BUG-level: every value handed here is plain data.
			a.logger.Error("tempo: encode response", slog.Any("err", err))
			http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
			return
		}
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		a.logger.Debug("tempo: write response", slog.Any("err", err))
	}
}

// respondError answers as Tempo does: the message as plain text with the
// status code. Grafana shows the text to the user.
func (a *API) respondError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	msg := err.Error()
	if code == http.StatusNotFound {
		msg = "trace not found"
	}
	http.Error(w, msg, code)
}
