package query_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

func ids(sums []storage.TraceSummary) []string {
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = s.TraceID.ShortString()
	}
	return out
}

func TestFindTraces(t *testing.T) {
	q := newService(t, fixture(t), nil)
	ctx := context.Background()
	f := func(name string, s query.Search, want ...string) {
		t.Helper()
		sums, err := q.FindTraces(ctx, &s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := ids(sums); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("everything, newest first", query.Search{}, "00000000000000b2", "00000000000000a1", "00000000000000c3")
	f("limit", query.Search{Query: storage.Query{Limit: 2}}, "00000000000000b2", "00000000000000a1")
	f("service", query.Search{Query: storage.Query{Conditions: []storage.Condition{eq(storage.FieldService, "api")}}},
		"00000000000000a1", "00000000000000c3")
	// error=true matches a1 by status and c3 by attribute.
	f("error tag, both alternatives", query.Search{AnyOf: [][]storage.Condition{query.TagFilter("error", "true")}},
		"00000000000000a1", "00000000000000c3")
	f("error tag, union limited", query.Search{Query: storage.Query{Limit: 1}, AnyOf: [][]storage.Condition{query.TagFilter("error", "true")}},
		"00000000000000a1")
	f("error=false", query.Search{Query: storage.Query{Conditions: []storage.Condition{eq(storage.FieldService, "api")}},
		AnyOf: [][]storage.Condition{query.TagFilter("error", "false")}}, "00000000000000c3")
	// Conditions hold on one span: http.method is on frontend's span, the error on api's.
	f("one span", query.Search{Query: storage.Query{Conditions: []storage.Condition{query.TagFilter("http.method", "GET")[0]}},
		AnyOf: [][]storage.Condition{query.TagFilter("error", "true")}})
	f("peer service, either key", query.Search{AnyOf: [][]storage.Condition{query.PeerServiceFilter("cache")}}, "00000000000000c3")
	f("range", query.Search{Query: storage.Query{Range: storage.TimeRange{Start: at(-4 * 3600e9), End: at(-2 * 3600e9)}}}, "00000000000000c3")
}

func TestFindTracesBadRequest(t *testing.T) {
	q := newService(t, fixture(t), nil)
	many := make([][]storage.Condition, 5) // 2^5 alternatives
	for i := range many {
		many[i] = query.TagFilter("error", "true")
	}
	for name, s := range map[string]query.Search{
		"negative limit": {Query: storage.Query{Limit: -1}},
		"inverted range": {Query: storage.Query{Range: storage.TimeRange{Start: 2, End: 1}}},
		"bad regex":      {Query: storage.Query{Conditions: []storage.Condition{{Field: storage.FieldName, Op: storage.OpRegex, Value: model.StringValue("(")}}}},
		"empty clause":   {AnyOf: [][]storage.Condition{{}}},
		"too many":       {AnyOf: many},
	} {
		_, err := q.FindTraces(context.Background(), &s)
		var br *query.BadRequestError
		if !errors.As(err, &br) {
			t.Errorf("%s: got %v, want a *BadRequestError", name, err)
		}
	}
}

func TestFindTracesFull(t *testing.T) {
	q := newService(t, fixture(t), nil)
	traces, err := q.FindTracesFull(context.Background(), &query.Search{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range traces {
		got = append(got, tr.ID.ShortString())
		for i := 1; i < len(tr.Spans); i++ {
			if tr.Spans[i].StartUnixNano < tr.Spans[i-1].StartUnixNano {
				t.Errorf("trace %s: spans not sorted by start", tr.ID)
			}
		}
	}
	if want := []string{"00000000000000b2", "00000000000000a1", "00000000000000c3"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if n := len(traces[1].Spans); n != 2 {
		t.Errorf("trace a1 has %d spans, want 2", n)
	}
}
