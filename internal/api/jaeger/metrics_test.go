package jaeger_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/api/jaeger"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

// metricsServer serves the Jaeger API over st holding: api's GET /a (10
// server spans at -5m, 10-19 ms, two failed), api's GET /b (5 server
// spans at -3m, 100 ms), one api client span at -3m and 4 web server
// spans at -2m.
func metricsServer(t *testing.T, withStats bool) *httptest.Server {
	t.Helper()
	st := memstore.New()
	api, web := resource("api"), resource("web")
	var spans []*model.Span
	id := 0
	add := func(r *model.Resource, name string, kind model.SpanKind, start, dur time.Duration, failed bool) {
		id++
		s := span(fmt.Sprintf("%032x", id), fmt.Sprintf("%016x", id), "", r, name, kind, start, dur)
		if failed {
			s.StatusCode = model.StatusError
		}
		spans = append(spans, s)
	}
	for i := range 10 {
		add(api, "GET /a", model.KindServer, -5*time.Minute+time.Duration(i)*time.Second, time.Duration(10+i)*time.Millisecond, i < 2)
	}
	for range 5 {
		add(api, "GET /b", model.KindServer, -3*time.Minute, 100*time.Millisecond, false)
	}
	add(api, "call db", model.KindClient, -3*time.Minute, 7*time.Millisecond, false)
	for range 4 {
		add(web, "GET /", model.KindServer, -2*time.Minute, time.Millisecond, false)
	}
	if err := st.Write(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	var r query.Reader = st
	if !withStats {
		r = struct{ storage.Backend }{st}
	}
	q := must(query.New(r, query.Options{Now: func() time.Time { return now }}))
	mux := http.NewServeMux()
	jaeger.New(q, jaeger.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

// points returns series i's points as timestamp → value.
func points(t *testing.T, body map[string]any, i int) (labels map[string]string, pts map[string]float64) {
	t.Helper()
	ms, _ := body["metrics"].([]any)
	if i >= len(ms) {
		t.Fatalf("series %d of %d: %v", i, len(ms), body)
	}
	m := ms[i].(map[string]any)
	labels, pts = map[string]string{}, map[string]float64{}
	for _, l := range m["labels"].([]any) {
		l := l.(map[string]any)
		labels[l["name"].(string)] = l["value"].(string)
	}
	for _, p := range m["metricPoints"].([]any) {
		p := p.(map[string]any)
		pts[p["timestamp"].(string)] = p["gaugeValue"].(map[string]any)["doubleValue"].(float64)
	}
	return labels, pts
}

func ts(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }

func TestMetricsEndpoints(t *testing.T) {
	srv := metricsServer(t, true)
	end := strconv.FormatUint(at(0)/1e6, 10)
	win := []string{"endTs", end, "lookback", "600000", "step", "60000", "ratePer", "600000"}

	code, body := get(t, srv, "/api/metrics/calls", append([]string{"service", "api"}, win...)...)
	if code != http.StatusOK || body["name"] != "service_call_rate" || body["type"] != "GAUGE" {
		t.Fatalf("calls: %d %v", code, body)
	}
	labels, pts := points(t, body, 0)
	if labels["service_name"] != "api" || len(labels) != 1 || len(pts) != 11 {
		t.Fatalf("calls series = %v %v", labels, pts)
	}
	// Each point covers the ten minutes before it: GET /a's ten calls
	// (at -5m) count from the -4m point on, GET /b's five from -2m.
	for d, want := range map[time.Duration]float64{-5 * time.Minute: 0, -4 * time.Minute: 10.0 / 600, -2 * time.Minute: 15.0 / 600, 0: 15.0 / 600} {
		if got := pts[ts(d)]; math.Abs(got-want) > 1e-12 {
			t.Errorf("call rate at %v = %v, want %v", d, got, want)
		}
	}

	code, body = get(t, srv, "/api/metrics/errors", append([]string{"service", "api", "service", "web", "groupByOperation", "true"}, win...)...)
	if code != http.StatusOK || body["name"] != "service_operation_error_rate" {
		t.Fatalf("errors: %d %v", code, body)
	}
	if n := len(body["metrics"].([]any)); n != 3 {
		t.Fatalf("errors: %d series, want 3 (api GET /a, GET /b, web GET /)", n)
	}
	labels, pts = points(t, body, 0)
	if labels["operation"] != "GET /a" || labels["service_name"] != "api" || pts[ts(0)] != 0.2 {
		t.Errorf("error series 0 = %v %v", labels, pts)
	}
	if _, ok := pts[ts(-5*time.Minute)]; ok {
		t.Errorf("an error rate without calls was reported: %v", pts)
	}

	code, body = get(t, srv, "/api/metrics/latencies", append([]string{"service", "api", "quantile", "0.5"}, win...)...)
	if code != http.StatusOK || body["name"] != "service_latencies" {
		t.Fatalf("latencies: %d %v", code, body)
	}
	_, pts = points(t, body, 0)
	// 15 calls: 10..19 ms and five of 100 ms; the 8th smallest is 17 ms.
	if got := pts[ts(0)]; math.Abs(got-17) > 0.17 {
		t.Errorf("p50 at 0 = %v ms, want 17 within 1%%", got)
	}
	if got := pts[ts(-4*time.Minute)]; math.Abs(got-14) > 0.14 {
		t.Errorf("p50 at -4m = %v ms, want 14 within 1%%", got)
	}

	// Client spans only when asked for.
	_, body = get(t, srv, "/api/metrics/calls", append([]string{"service", "api", "spanKind", "client"}, win...)...)
	if _, pts = points(t, body, 0); pts[ts(0)] != 1.0/600 {
		t.Errorf("client call rate = %v", pts)
	}

	// An endTs inside a minute puts the last point there, counting the
	// minute in progress (GET /a's calls at -5m..-4m51s).
	_, body = get(t, srv, "/api/metrics/calls", "service", "api", "endTs", strconv.FormatUint(at(-4*time.Minute-30*time.Second)/1e6, 10),
		"lookback", "60000", "step", "60000")
	if _, pts = points(t, body, 0); len(pts) != 2 || pts[ts(-4*time.Minute-30*time.Second)] != 10.0/600 {
		t.Errorf("calls ending mid-minute = %v", pts)
	}

	if code, body = get(t, srv, "/api/metrics/minstep"); code != http.StatusOK || body["minStep"] != 60000.0 {
		t.Errorf("minstep = %d %v", code, body)
	}

	for _, bad := range [][]string{
		{"/api/metrics/calls"},
		{"/api/metrics/latencies", "service", "api"},
		{"/api/metrics/latencies", "service", "api", "quantile", "1.5"},
		{"/api/metrics/calls", "service", "api", "spanKind", "sideways"},
		{"/api/metrics/calls", "service", "api", "step", "0"},
		{"/api/metrics/calls", "service", "api", "lookback", "31536000000", "step", "60000"},
		{"/api/metrics/errors", "service", "api", "groupByOperation", "maybe"},
	} {
		if code, body := get(t, srv, bad[0], bad[1:]...); code != http.StatusBadRequest || body["errors"] == nil {
			t.Errorf("%v: %d %v, want 400 with errors", bad, code, body)
		}
	}

	plain := metricsServer(t, false)
	if code, body := get(t, plain, "/api/metrics/calls", "service", "api"); code != http.StatusNotImplemented || body["errors"] == nil {
		t.Errorf("without statistics: %d %v, want 501", code, body)
	}
}
