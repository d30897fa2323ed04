package server

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestTempoAPIEndToEnd sends spans over OTLP/HTTP and reads them back
// through the Tempo API on the HTTP port, as Grafana's Tempo data source
// would: TraceQL search, structural search, tags, metrics, and trace by ID
// in protobuf, next to the Jaeger API on the same path.
func TestTempoAPIEndToEnd(t *testing.T) {
	ts := startServer(t, testConfig(t.TempDir()))
	now := time.Now()
	var ok, failed []string
	for i := range 4 {
		id := fmt.Sprintf("%032x", 0x7e000+i)
		bad := i == 2
		if code, body := post(t, ts.url("otlp-http", "/v1/traces"), "application/json",
			otlpTraces(shopSpans(id, now.Add(-time.Duration(10+i)*time.Minute), 100, bad))); code != 200 {
			t.Fatalf("POST /v1/traces: %d %s", code, body)
		}
		if bad {
			failed = append(failed, id)
		} else {
			ok = append(ok, id)
		}
	}
	window := func(v url.Values) string {
		v.Set("start", fmt.Sprint(now.Add(-time.Hour).Unix()))
		v.Set("end", fmt.Sprint(now.Unix()+1))
		return v.Encode()
	}
	type searchResp struct {
		Traces []struct {
			TraceID         string `json:"traceID"`
			RootServiceName string `json:"rootServiceName"`
			RootTraceName   string `json:"rootTraceName"`
			SpanSets        []struct {
				Matched int `json:"matched"`
				Spans   []struct {
					SpanID string `json:"spanID"`
					Name   string `json:"name"`
				} `json:"spans"`
			} `json:"spanSets"`
		} `json:"traces"`
		Metrics struct {
			InspectedTraces int `json:"inspectedTraces"`
		} `json:"metrics"`
	}
	search := func(q string) searchResp {
		t.Helper()
		var r searchResp
		getJSON(t, ts.url("http", "/api/search?"+window(url.Values{"q": {q}})), 200, &r)
		return r
	}

	r := search(`{ resource.service.name = "bank" && status = error }`)
	if len(r.Traces) != 1 || r.Traces[0].TraceID != failed[0] || r.Traces[0].RootServiceName != "checkout" ||
		r.Traces[0].RootTraceName != "GET /checkout" || r.Traces[0].SpanSets[0].Spans[0].Name != "authorize" {
		t.Errorf("failed bank calls: %+v", r)
	}
	r = search(`{ resource.service.name = "payment" && kind = client } > { resource.service.name = "bank" }`)
	if len(r.Traces) != 4 {
		t.Errorf("payment → bank: %d traces, want 4", len(r.Traces))
	}
	r = search(`{ name = "db query" } | count() > 1`)
	if len(r.Traces) != 4 || r.Traces[0].SpanSets[0].Matched != 2 || r.Traces[0].TraceID != ok[0] {
		t.Errorf("retried queries: %+v", r)
	}

	var tags struct {
		Scopes []struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		} `json:"scopes"`
	}
	getJSON(t, ts.url("http", "/api/v2/search/tags?scope=resource"), 200, &tags)
	if len(tags.Scopes) != 1 || !contains(tags.Scopes[0].Tags, "host.name") || !contains(tags.Scopes[0].Tags, "service.name") {
		t.Errorf("resource tags: %+v", tags)
	}
	var values struct {
		TagValues []struct{ Type, Value string } `json:"tagValues"`
	}
	getJSON(t, ts.url("http", "/api/v2/search/tag/resource.service.name/values?q="+url.QueryEscape(`{ kind = server && resource.service.name = }`)), 200, &values)
	if len(values.TagValues) != 3 || values.TagValues[0].Value != "bank" {
		t.Errorf("service values: %+v", values)
	}

	var series struct {
		Series []struct {
			PromLabels string `json:"promLabels"`
			Samples    []struct {
				Value float64 `json:"value"`
			} `json:"samples"`
		} `json:"series"`
		Status string `json:"status"`
	}
	getJSON(t, ts.url("http", "/api/metrics/query_range?"+window(url.Values{
		"q": {`{ status = error } | count_over_time() by (resource.service.name)`}, "step": {"1h"}})), 200, &series)
	got := map[string]float64{}
	for _, s := range series.Series {
		for _, smp := range s.Samples {
			got[s.PromLabels] += smp.Value
		}
	}
	// Every trace has a deadlocked payment query; the failed one also
	// fails in checkout (2), payment (2 more) and bank (1).
	want := map[string]float64{`{resource.service.name="checkout"}`: 2, `{resource.service.name="payment"}`: 6, `{resource.service.name="bank"}`: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) || series.Status != "COMPLETE" {
		t.Errorf("errors by service: %v (%s), want %v", got, series.Status, want)
	}

	// Trace by ID: protobuf for Tempo clients, Jaeger's JSON otherwise.
	req, _ := http.NewRequest(http.MethodGet, ts.url("http", "/api/traces/"+failed[0]), nil)
	req.Header.Set("Accept", "application/protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
	if err != nil || resp.Header.Get("Content-Type") != "application/protobuf" || td.SpanCount() != 8 {
		t.Errorf("protobuf trace: %v, %s, %d spans", err, resp.Header.Get("Content-Type"), td.SpanCount())
	}
	var jt jaegerTraces
	getJSON(t, ts.url("http", "/api/traces/"+failed[0]), 200, &jt)
	if len(jt.Data) != 1 || len(jt.Data[0].Spans) != 8 {
		t.Errorf("Jaeger trace: %+v", jt)
	}
	var v2 struct {
		Trace struct {
			ResourceSpans []any `json:"resourceSpans"`
		} `json:"trace"`
		Status string `json:"status"`
	}
	getJSON(t, ts.url("http", "/api/v2/traces/"+failed[0]), 200, &v2)
	if len(v2.Trace.ResourceSpans) != 3 || v2.Status != "COMPLETE" {
		t.Errorf("v2 trace: %+v", v2)
	}

	resp, err = http.Get(ts.url("http", "/api/echo"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "echo" {
		t.Errorf("echo: %q", body)
	}
}
