package server

import (
	"encoding/json"
	"net/http"
)

// healthReporter is implemented by backends that can tell why they are
// degraded (the embedded engine reports quarantined blocks).
type healthReporter interface {
	Health() error
}

// handleHealthz answers liveness: the process is up and serving HTTP.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// handleReadyz answers readiness: storage is open and healthy. A degraded
// backend (for example one with a quarantined block) is still ready, since
// everything else stays queryable, but the detail says what is wrong.
func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"status": "ready"}
	code := http.StatusOK
	if s.closing.Load() {
		body["status"] = "shutting down"
		code = http.StatusServiceUnavailable
	} else if hr, ok := s.backend.(healthReporter); ok {
		if err := hr.Health(); err != nil {
			body["status"] = "degraded"
			body["detail"] = err.Error()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}
