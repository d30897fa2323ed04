package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// conformanceDir finds ../shared/conformance/jaeger-storage beside the
// repository (or CLEW_CONFORMANCE_DIR). When it is absent the test skips,
// unless CLEW_REQUIRE_CONFORMANCE=1 (set by .ci/run) makes that a failure.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CLEW_CONFORMANCE_DIR")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(filepath.Dir(d), "shared", "conformance", "jaeger-storage")
				break
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "queries.json")); err != nil {
		msg := fmt.Sprintf("Jaeger storage fixtures not found at %q (set CLEW_CONFORMANCE_DIR): %v", dir, err)
		if os.Getenv("CLEW_REQUIRE_CONFORMANCE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

type fixtureQuery struct {
	Caption string
	Query   struct {
		ServiceName   string
		OperationName string
		Tags          map[string]any
		StartTimeMin  time.Time
		StartTimeMax  time.Time
		DurationMin   int64
		DurationMax   int64
		NumTraces     int
	}
	ExpectedFixtures []string
}

// TestJaegerFixturesOverHTTP loads the Jaeger project's storage fixtures
// through OTLP/HTTP JSON and runs its 25 queries through /api/traces, as
// the Jaeger UI would, expecting exactly the traces Jaeger expects.
func TestJaegerFixturesOverHTTP(t *testing.T) {
	dir := conformanceDir(t)
	ts := startServer(t, testConfig(t.TempDir()))

	var queries []fixtureQuery
	b, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &queries); err != nil {
		t.Fatal(err)
	}
	// The fixtures are from 2017-01-26; move them (and the query windows)
	// so that they end an hour ago, well inside the default retention.
	base := time.Date(2017, 1, 26, 0, 0, 0, 0, time.UTC)
	shift := time.Now().Add(-24 * time.Hour).Truncate(time.Hour).Sub(base)

	traceIDs := map[string][]string{} // fixture name -> trace IDs
	files, _ := filepath.Glob(filepath.Join(dir, "traces", "*.json"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		traceIDs[name] = shiftTraces(td, shift)
		body, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if code, resp := post(t, ts.url("otlp-http", "/v1/traces"), "application/json", body); code != 200 {
			t.Fatalf("%s: POST /v1/traces = %d %s", name, code, resp)
		}
	}
	if len(queries) != 25 {
		t.Fatalf("%d queries, want 25", len(queries))
	}
	for _, q := range queries {
		t.Run(q.Caption, func(t *testing.T) {
			v := url.Values{}
			v.Set("service", q.Query.ServiceName)
			if q.Query.OperationName != "" {
				v.Set("operation", q.Query.OperationName)
			}
			if len(q.Query.Tags) > 0 {
				tags := map[string]string{}
				for k, x := range q.Query.Tags {
					tags[k] = fmt.Sprint(x)
				}
				j, _ := json.Marshal(tags)
				v.Set("tags", string(j))
			}
			v.Set("start", fmt.Sprint(q.Query.StartTimeMin.Add(shift).UnixMicro()))
			v.Set("end", fmt.Sprint(q.Query.StartTimeMax.Add(shift).UnixMicro()))
			if q.Query.DurationMin > 0 {
				v.Set("minDuration", time.Duration(q.Query.DurationMin).String())
			}
			if q.Query.DurationMax > 0 {
				v.Set("maxDuration", time.Duration(q.Query.DurationMax).String())
			}
			v.Set("limit", fmt.Sprint(q.Query.NumTraces))
			var got jaegerTraces
			getJSON(t, ts.url("http", "/api/traces?"+v.Encode()), 200, &got)
			var want, have []string
			for _, f := range q.ExpectedFixtures {
				want = append(want, traceIDs[f]...)
			}
			for _, tr := range got.Data {
				have = append(have, tr.TraceID)
			}
			sort.Strings(want)
			sort.Strings(have)
			if strings.Join(want, ",") != strings.Join(have, ",") {
				t.Errorf("query %s\n got %v\nwant %v (%v)", v.Encode(), have, want, q.ExpectedFixtures)
			}
		})
	}
}

// shiftTraces moves every timestamp in td by d and returns its trace IDs.
func shiftTraces(td ptrace.Traces, d time.Duration) []string {
	mv := func(ts pcommon.Timestamp) pcommon.Timestamp {
		if ts == 0 {
			return 0
		}
		return pcommon.Timestamp(int64(ts) + int64(d))
	}
	seen := map[string]bool{}
	var ids []string
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				s.SetStartTimestamp(mv(s.StartTimestamp()))
				s.SetEndTimestamp(mv(s.EndTimestamp()))
				for e := 0; e < s.Events().Len(); e++ {
					ev := s.Events().At(e)
					ev.SetTimestamp(mv(ev.Timestamp()))
				}
				id := s.TraceID().String()
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}
