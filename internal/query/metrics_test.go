package query_test

import (
	"context"
	"testing"

	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns the metric family name from reg.
func gather(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := newService(t, fixture(t), reg)
	ctx := query.WithEndpoint(context.Background(), "test_search")
	if _, err := q.FindTraces(ctx, &query.Search{}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.FindTraces(ctx, &query.Search{Query: storage.Query{Limit: -1}}); err == nil {
		t.Fatal("want an error")
	}
	if _, err := q.Services(context.Background()); err != nil {
		t.Fatal(err)
	}

	counts := map[string]uint64{}
	for _, m := range gather(t, reg, "clew_query_duration_seconds").GetMetric() {
		counts[labels(m)["endpoint"]] = m.GetHistogram().GetSampleCount()
	}
	if counts["test_search"] != 2 || counts["services"] != 1 {
		t.Errorf("duration sample counts %v, want test_search:2 services:1", counts)
	}
	errs := gather(t, reg, "clew_query_errors_total")
	if errs == nil || len(errs.GetMetric()) != 1 {
		t.Fatalf("errors: %v", errs)
	}
	m := errs.GetMetric()[0]
	if l := labels(m); l["endpoint"] != "test_search" || l["reason"] != "bad_request" || m.GetCounter().GetValue() != 1 {
		t.Errorf("errors: %v = %v", l, m.GetCounter().GetValue())
	}

	// A second service on the same registerer must fail, not panic.
	if _, err := query.New(fixture(t), query.Options{Registerer: reg}); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
}

func TestOptions(t *testing.T) {
	if _, err := query.New(fixture(t), query.Options{FetchConcurrency: -1}); err == nil {
		t.Error("negative FetchConcurrency accepted")
	}
	if _, err := query.New(nil, query.Options{}); err == nil {
		t.Error("nil reader accepted")
	}
}
