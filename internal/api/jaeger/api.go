package jaeger

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

// API serves the Jaeger v1 and v3 query endpoints. It is safe for
// concurrent use.
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

// Register adds the v1 routes (under /api) and the v3 routes (under
// /api/v3) to mux. Each route names its endpoint for the query metrics.
func (a *API) Register(mux *http.ServeMux) {
	a.v1(mux, "GET /api/services", "jaeger_services", a.services)
	a.v1(mux, "GET /api/services/{service}/operations", "jaeger_service_operations", a.serviceOperations)
	a.v1(mux, "GET /api/operations", "jaeger_operations", a.operations)
	a.v1(mux, "GET /api/traces", "jaeger_find_traces", a.findTraces)
	a.v1(mux, "GET /api/traces/{traceID}", "jaeger_trace", a.trace)
	a.v1(mux, "GET /api/dependencies", "jaeger_dependencies", a.dependencies)
	for _, kind := range []string{"calls", "errors", "latencies"} {
		a.raw(mux, "GET /api/metrics/"+kind, "jaeger_metrics_"+kind, a.metrics(kind))
	}
	a.raw(mux, "GET /api/metrics/minstep", "jaeger_metrics_minstep", a.metricsMinStep)

	a.v3(mux, "GET /api/v3/services", "jaeger_v3_services", a.v3Services)
	a.v3(mux, "GET /api/v3/operations", "jaeger_v3_operations", a.v3Operations)
	a.v3(mux, "GET /api/v3/traces/{traceID}", "jaeger_v3_trace", a.v3Trace)
	a.v3(mux, "GET /api/v3/traces", "jaeger_v3_find_traces", a.v3FindTraces)
	a.v3(mux, "GET /api/v3/trace-summaries", "jaeger_v3_trace_summaries", a.v3TraceSummaries)
}

// v1Func is a v1 handler: it parses the request, asks the query layer and
// returns what to send; v1Respond and v1RespondError own the wire format.
type v1Func func(r *http.Request) (*v1Result, error)

// v3Func is a v3 handler; the value it returns is marshalled as JSON.
type v3Func func(r *http.Request) (any, error)

func (a *API) v1(mux *http.ServeMux, pattern, endpoint string, fn v1Func) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.v1RespondError(w, err)
			return
		}
		a.v1Respond(w, res)
	})
}

// raw registers a route whose answer is sent as is, without the v1
// envelope (the metrics routes), and whose errors use the v1 envelope.
func (a *API) raw(mux *http.ServeMux, pattern, endpoint string, fn v3Func) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.v1RespondError(w, err)
			return
		}
		a.writeJSON(w, http.StatusOK, res)
	})
}

func (a *API) v3(mux *http.ServeMux, pattern, endpoint string, fn v3Func) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.v3RespondError(w, err)
			return
		}
		a.v3Respond(w, res)
	})
}
