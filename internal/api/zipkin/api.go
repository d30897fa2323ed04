package zipkin

import (
	"log/slog"
	"net/http"

	"github.com/clew-tracing/clew/internal/query"
)

// Options configures an [API]. The zero value is usable.
type Options struct {
	// Logger receives errors writing responses; nil discards them.
	Logger *slog.Logger
}

// API serves the Zipkin v2 query endpoints. It is safe for concurrent use.
type API struct {
	q      *query.Service
	logger *slog.Logger
}

// New returns an API answering from q.
func New(q *query.Service, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{q: q, logger: opts.Logger}
}

// Register adds the query routes under /api/v2 to mux. Each route names
// its endpoint for the query metrics.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v2/services", "zipkin_services", a.services)
	a.handle(mux, "GET /api/v2/spans", "zipkin_spans", a.spans)
	a.handle(mux, "GET /api/v2/remoteServices", "zipkin_remote_services", a.remoteServices)
	a.handle(mux, "GET /api/v2/traces", "zipkin_traces", a.traces)
	a.handle(mux, "GET /api/v2/trace/{traceId}", "zipkin_trace", a.trace)
	a.handle(mux, "GET /api/v2/traceMany", "zipkin_trace_many", a.traceMany)
	a.handle(mux, "GET /api/v2/dependencies", "zipkin_dependencies", a.dependencies)
	a.handle(mux, "GET /api/v2/autocompleteKeys", "zipkin_autocomplete_keys", a.autocompleteKeys)
	a.handle(mux, "GET /api/v2/autocompleteValues", "zipkin_autocomplete_values", a.autocompleteValues)
}

// apiFunc is a handler: it parses the request, asks the query layer and
// returns the value to send as JSON; respond and respondError own the wire
// format.
type apiFunc func(r *http.Request) (any, error)

func (a *API) handle(mux *http.ServeMux, pattern, endpoint string, fn apiFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.respondError(w, err)
			return
		}
		a.respond(w, res)
	})
}
