package tempo

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/traceql/engine"
)

// CompatibleVersion is the Tempo version /api/status/buildinfo reports.
// Grafana's Tempo data source enables features (the v2 tag and trace
// endpoints, TraceQL metrics) by the version it reads there.
const CompatibleVersion = "2.7.0"

// Options configures an [API]. The zero value is usable.
type Options struct {
	// Logger receives errors writing responses; nil discards them.
	Logger *slog.Logger
	// Version is Clew's version, reported in buildinfo's revision.
	Version string
	// Engine configures the TraceQL engine (candidate bounds).
	Engine engine.Options
}

// API serves Grafana Tempo's HTTP query API. It is safe for concurrent use.
type API struct {
	q       *query.Service
	eng     *engine.Engine
	logger  *slog.Logger
	version string
}

// New returns an API answering from q.
func New(q *query.Service, opts Options) (*API, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	eng, err := engine.New(q, opts.Engine)
	if err != nil {
		return nil, fmt.Errorf("tempo api: %w", err)
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	return &API{q: q, eng: eng, logger: opts.Logger, version: opts.Version}, nil
}

// Register adds Tempo's routes to mux, except GET /api/traces/{traceID},
// which is Jaeger's: see [API.TraceByIDMiddleware].
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/echo", a.echo)
	a.handle(mux, "GET /api/status/buildinfo", "tempo_buildinfo", a.buildInfo)
	a.handle(mux, "GET /api/v2/traces/{traceID}", "tempo_trace_v2", a.traceV2)
	a.handle(mux, "GET /api/search", "tempo_search", a.search)
	a.handle(mux, "GET /api/search/tags", "tempo_search_tags", a.searchTags)
	a.handle(mux, "GET /api/v2/search/tags", "tempo_search_tags_v2", a.searchTagsV2)
	a.handle(mux, "GET /api/search/tag/{tag}/values", "tempo_search_tag_values", a.searchTagValues)
	a.handle(mux, "GET /api/v2/search/tag/{tag}/values", "tempo_search_tag_values_v2", a.searchTagValuesV2)
	a.handle(mux, "GET /api/metrics/query_range", "tempo_metrics_query_range", a.queryRange)
	a.handle(mux, "GET /api/metrics/query", "tempo_metrics_query", a.queryInstant)
}

// TraceByIDMiddleware serves Tempo's trace-by-ID response on
// GET /api/traces/{id}, a path the Jaeger API owns, when the request asks
// for Tempo's shape, and hands every other request to next:
//
//   - Accept: application/protobuf (what Grafana's Tempo data source
//     sends) gets Tempo's protobuf Trace;
//   - format=tempo in the query string gets Tempo's JSON ({"batches":…}).
//
// Jaeger clients send neither, so they keep Jaeger's response.
func (a *API) TraceByIDMiddleware(next http.Handler) http.Handler {
	h := a.wrap("tempo_trace", a.traceV1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && WantsTempoTrace(r) {
			if id, ok := strings.CutPrefix(r.URL.Path, "/api/traces/"); ok && id != "" && !strings.Contains(id, "/") {
				r.SetPathValue("traceID", id)
				h.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// WantsTempoTrace reports whether a request for /api/traces/{id} asks for
// Tempo's response rather than Jaeger's.
func WantsTempoTrace(r *http.Request) bool {
	return acceptsProtobuf(r) || r.URL.Query().Get("format") == "tempo"
}

// acceptsProtobuf reports whether the Accept header names protobuf.
func acceptsProtobuf(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/protobuf" || mt == "application/x-protobuf") {
			return true
		}
	}
	return false
}

// handlerFunc is a Tempo handler: it parses the request, asks the query
// layer or the TraceQL engine, and returns what to send.
type handlerFunc func(r *http.Request) (response, error)

func (a *API) handle(mux *http.ServeMux, pattern, endpoint string, fn handlerFunc) {
	mux.Handle(pattern, a.wrap(endpoint, fn))
}

func (a *API) wrap(endpoint string, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(query.WithEndpoint(r.Context(), endpoint))
		res, err := fn(r)
		if err != nil {
			a.respondError(w, err)
			return
		}
		a.respond(w, res)
	})
}

// echo answers GET /api/echo, Grafana's connection test.
func (a *API) echo(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("echo"))
}
