package query_test

import (
	"context"
	"errors"
	"reflect"
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

// fullFinder is a backend implementing storage.FullTraceFinder over a
// memstore; it counts calls, and Trace fails so that a second fetch
// would show.
type fullFinder struct {
	query.Reader
	full int
}

func (f *fullFinder) Trace(context.Context, model.TraceID, storage.TimeRange) (*model.Trace, error) {
	return nil, errors.New("FindTracesFull must not fetch traces again")
}

func (f *fullFinder) FindTracesFull(ctx context.Context, q *storage.Query) ([]*model.Trace, []storage.TraceSummary, error) {
	f.full++
	sums, err := f.Reader.FindTraces(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	traces := make([]*model.Trace, len(sums))
	for i, s := range sums {
		if traces[i], err = f.Reader.Trace(ctx, s.TraceID, storage.TimeRange{}); err != nil {
			return nil, nil, err
		}
	}
	return traces, sums, nil
}

// A backend that returns traces with its summaries is asked once per
// alternative and never asked for the traces again; the result is the same.
func TestFindTracesFullUsesBackend(t *testing.T) {
	ctx := context.Background()
	st := fixture(t)
	plain := newService(t, st, nil)
	f := &fullFinder{Reader: st}
	q := newService(t, f, nil)
	for _, search := range []*query.Search{
		{},
		{Query: storage.Query{Limit: 1}},
		{AnyOf: [][]storage.Condition{{eq(storage.FieldName, "GET /"), eq(storage.FieldName, "call")}}},
	} {
		f.full = 0
		got, err := q.FindTracesFull(ctx, search)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.FindTracesFull(ctx, search)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: got %d traces, want %d", search, len(got), len(want))
		}
		if alts := max(1, len(search.AnyOf)*2); f.full != alts {
			t.Errorf("%+v: %d FindTracesFull calls, want %d", search, f.full, alts)
		}
	}
}
