package clew

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/query"
)

// Options configures an [API]. The zero value is usable.
type Options struct {
	// Logger receives errors writing responses and server-side failures;
	// nil discards them.
	Logger *slog.Logger
	// Owners resolves service owners for the page field; nil reads
	// resource attributes only.
	Owners *analysis.Owners
	// Baselines is where operation baselines come from; nil means a
	// [Baselines] over the query service with default options.
	Baselines analysis.BaselineSource
	// Lookback is the default baseline window; 0 means
	// analysis.DefaultLookback (24 h). Requests may override it.
	Lookback time.Duration
	// BaselineOperations caps the operations looked up per explanation;
	// 0 means analysis.DefaultBaselineOperations.
	BaselineOperations int
	// SampleTraces bounds the traces read to answer servicegraph and red;
	// 0 means DefaultSampleTraces.
	SampleTraces int
}

// DefaultSampleTraces is how many of the newest matching traces the
// across-trace endpoints read when Options.SampleTraces is 0.
const DefaultSampleTraces = 1000

// API serves /api/clew. It is safe for concurrent use.
type API struct {
	q            *query.Service
	logger       *slog.Logger
	owners       *analysis.Owners
	baselines    analysis.BaselineSource
	lookback     time.Duration
	maxOps       int
	sampleTraces int
}

// New returns an API answering from q.
func New(q *query.Service, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Baselines == nil {
		opts.Baselines = NewBaselines(q, BaselineOptions{})
	}
	if opts.Lookback <= 0 {
		opts.Lookback = analysis.DefaultLookback
	}
	if opts.SampleTraces <= 0 {
		opts.SampleTraces = DefaultSampleTraces
	}
	return &API{
		q: q, logger: opts.Logger, owners: opts.Owners, baselines: opts.Baselines,
		lookback: opts.Lookback, maxOps: opts.BaselineOperations, sampleTraces: opts.SampleTraces,
	}
}

// Register adds the /api/clew routes to mux. Each route names its
// endpoint for the query metrics.
func (a *API) Register(mux *http.ServeMux) {
	a.route(mux, "GET /api/clew/traces/{traceID}/explain", "clew_explain", a.explain)
	a.route(mux, "GET /api/clew/traces/{traceID}/waterfall", "clew_waterfall", a.waterfall)
	a.route(mux, "GET /api/clew/servicegraph", "clew_servicegraph", a.serviceGraph)
	a.route(mux, "GET /api/clew/red", "clew_red", a.red)
}

// handlerFunc parses a request, asks the query layer and returns the value
// to send as JSON; respond and respondError own the wire format.
type handlerFunc func(r *http.Request) (any, error)

func (a *API) route(mux *http.ServeMux, pattern, endpoint string, fn handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.respondError(w, r, err)
			return
		}
		a.respond(w, http.StatusOK, res)
	})
}
