package engine_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/traceql/engine"
)

// looseFixture stores n traces whose span has code=200 as an int (newest)
// and, before them, old traces with code="200" as a string. Storage
// compares "200" with both; TraceQL only with the strings.
func looseFixture(t *testing.T, n, old int) (*query.Service, time.Time) {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	base := time.Now().Add(-time.Hour)
	var spans []*model.Span
	for i := range n + old {
		v := model.IntValue(200)
		if i < old {
			v = model.StringValue("200")
		}
		start := uint64(base.Add(time.Duration(i) * time.Second).UnixNano())
		spans = append(spans, &model.Span{
			TraceID: model.TraceID{0: 1, 15: byte(i), 14: byte(i >> 8)}, SpanID: model.SpanID{7: 1}, Name: "op",
			StartUnixNano: start, EndUnixNano: start + 1000,
			Resource:   &model.Resource{ServiceName: "svc"},
			Attributes: []model.KeyValue{{Key: "code", Value: v}},
		})
	}
	if err := st.Write(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	q, err := query.New(st, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return q, base
}

// TestSearchRounds checks that the engine keeps asking storage for more
// candidates while too few of them match, fetches each trace once, and
// says when its bound cut the search short.
func TestSearchRounds(t *testing.T) {
	q, _ := looseFixture(t, 1000, 5)
	ctx := context.Background()

	eng, err := engine.New(q, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Search(ctx, engine.SearchRequest{Query: `{ span.code = "200" }`, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 3 || res.Partial {
		t.Fatalf("got %d traces (partial %t), want 3 complete", len(res.Traces), res.Partial)
	}
	for i, want := range []byte{4, 3, 2} {
		if got := res.Traces[i].Summary.TraceID[15]; got != want {
			t.Errorf("trace %d is %d, want %d (newest first)", i, got, want)
		}
	}
	// Rounds of 100, 400 and 1600 candidates (the last finds them all);
	// every trace is fetched once.
	if res.Stats.StorageQueries != 3 || res.Stats.InspectedTraces != 1005 {
		t.Errorf("stats %+v, want 3 storage queries and 1005 traces inspected", res.Stats)
	}

	small, err := engine.New(q, engine.Options{MaxCandidates: 500})
	if err != nil {
		t.Fatal(err)
	}
	res, err = small.Search(ctx, engine.SearchRequest{Query: `{ span.code = "200" }`, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 0 || !res.Partial || res.Stats.InspectedTraces != 500 {
		t.Errorf("bounded search: %d traces, partial %t, stats %+v; want none, partial, 500 inspected", len(res.Traces), res.Partial, res.Stats)
	}
	// most_recent raises the bound.
	res, err = small.Search(ctx, engine.SearchRequest{Query: `{ span.code = "200" } with (most_recent=true)`, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 3 || res.Partial {
		t.Errorf("most_recent: %d traces, partial %t", len(res.Traces), res.Partial)
	}
	// Enough matches among the newest candidates: one round.
	res, err = small.Search(ctx, engine.SearchRequest{Query: `{ span.code = 200 }`, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 3 || res.Partial || res.Stats.StorageQueries != 1 || res.Stats.InspectedTraces != 100 {
		t.Errorf("easy search: %d traces, partial %t, stats %+v", len(res.Traces), res.Partial, res.Stats)
	}
}

func TestMetricsBound(t *testing.T) {
	q, base := looseFixture(t, 200, 0)
	eng, err := engine.New(q, engine.Options{MetricsMaxTraces: 40})
	if err != nil {
		t.Fatal(err)
	}
	start := uint64(base.UnixNano())
	req := engine.MetricsRequest{Query: `{ } | count_over_time()`, Start: start, End: start + uint64(200*time.Second), Step: uint64(20 * time.Second)}
	res, err := eng.QueryRange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// 10 chunks of 4 traces each: every step has some data, the result
	// says it is partial.
	if !res.Partial || len(res.Series) != 1 {
		t.Fatalf("partial %t, %d series", res.Partial, len(res.Series))
	}
	for i, v := range res.Series[0].Values {
		if v != 4 {
			t.Errorf("step %d: %v spans, want 4", i, v)
		}
	}
	full, err := engine.New(q, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = full.QueryRange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial {
		t.Error("unbounded query is partial")
	}
	for i, v := range res.Series[0].Values {
		if v != 20 || math.IsNaN(v) {
			t.Errorf("step %d: %v spans, want 20", i, v)
		}
	}
}

func TestSearchBadRequests(t *testing.T) {
	q, _ := looseFixture(t, 1, 0)
	eng, err := engine.New(q, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, req := range []engine.SearchRequest{
		{Query: "{"},
		{Query: "{ name = 1 }"},
		{Query: "{ } | rate()"},
		{Query: "{ }", Limit: -1},
		{Query: "{ }", Range: storage.TimeRange{Start: 2, End: 1}},
	} {
		if _, err := eng.Search(ctx, req); !query.IsBadRequest(err) {
			t.Errorf("Search(%+v) = %v, want a bad request", req, err)
		}
	}
	for _, req := range []engine.MetricsRequest{
		{Query: "{ }", Start: 1, End: 2, Step: 1},
		{Query: "{ } | rate()", Start: 2, End: 1, Step: 1},
		{Query: "{ } | rate()", Start: 1, End: 2, Step: 0},
		{Query: "{ } | rate()", Start: 0, End: 1e12, Step: 1},
	} {
		if _, err := eng.QueryRange(ctx, req); !query.IsBadRequest(err) {
			t.Errorf("QueryRange(%+v) = %v, want a bad request", req, err)
		}
	}
}
