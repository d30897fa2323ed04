package clew

import (
	"net/http"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/storage"
)

// explain serves GET /api/clew/traces/{traceID}/explain.
//
// Parameters: lookback (Go duration, default 24h): the baseline window;
// baselines=false skips the baseline lookups (verdict "unknown").
func (a *API) explain(r *http.Request) (any, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	lookback, err := parseDuration(q, "lookback", a.lookback)
	if err != nil {
		return nil, err
	}
	withBaselines, err := parseBool(q, "baselines", true)
	if err != nil {
		return nil, err
	}
	tr, err := a.q.Trace(r.Context(), id, storage.TimeRange{})
	if err != nil {
		return nil, err
	}
	opts := analysis.Options{Owners: a.owners, Lookback: lookback, Now: a.q.Now, BaselineOperations: a.maxOps}
	if withBaselines {
		opts.Baselines = a.baselines
	}
	return analysis.Explain(r.Context(), tr, opts)
}

// waterfall serves GET /api/clew/traces/{traceID}/waterfall.
func (a *API) waterfall(r *http.Request) (any, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	tr, err := a.q.Trace(r.Context(), id, storage.TimeRange{})
	if err != nil {
		return nil, err
	}
	return analysis.NewWaterfall(id, analysis.Analyze(tr.Spans)), nil
}
