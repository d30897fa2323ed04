package query_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

func TestTrace(t *testing.T) {
	q := newService(t, fixture(t), nil)
	ctx := context.Background()
	tr, err := q.Trace(ctx, tid("A1"), storage.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Spans) != 2 || tr.Spans[0].SpanID != sid("1001") {
		t.Errorf("got %d spans starting with %s", len(tr.Spans), tr.Spans[0].SpanID)
	}
	if _, err := q.Trace(ctx, tid("dead"), storage.TimeRange{}); !errors.Is(err, query.ErrNotFound) {
		t.Errorf("unknown trace: got %v, want ErrNotFound", err)
	}
	if _, err := q.Trace(ctx, model.TraceID{}, storage.TimeRange{}); !query.IsBadRequest(err) {
		t.Errorf("zero trace id: got %v, want a bad request", err)
	}
}

// dupReader returns every span of a trace twice, as a backend that stored
// a retried export might.
type dupReader struct{ query.Reader }

func (r dupReader) Trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) (*model.Trace, error) {
	t, err := r.Reader.Trace(ctx, id, hint)
	if err != nil {
		return nil, err
	}
	t.Spans = append(t.Spans, t.Spans...)
	return t, nil
}

func TestTraceDedupes(t *testing.T) {
	q := newService(t, dupReader{fixture(t)}, nil)
	tr, err := q.Trace(context.Background(), tid("a1"), storage.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Spans) != 2 {
		t.Errorf("got %d spans, want 2", len(tr.Spans))
	}
}

func TestTraces(t *testing.T) {
	q := newService(t, fixture(t), nil)
	found, missing, err := q.Traces(context.Background(), []model.TraceID{tid("b2"), tid("dead"), tid("a1"), tid("b2")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range found {
		got = append(got, tr.ID.ShortString())
	}
	if want := []string{"00000000000000b2", "00000000000000a1"}; !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	if len(missing) != 1 || missing[0] != tid("dead") {
		t.Errorf("missing %v, want [dead]", missing)
	}
}

// gateReader counts concurrent Trace calls and fails those of one trace.
type gateReader struct {
	query.Reader
	fail     model.TraceID
	mu       sync.Mutex
	inFlight int
	max      int
}

func (r *gateReader) Trace(ctx context.Context, id model.TraceID, hint storage.TimeRange) (*model.Trace, error) {
	r.mu.Lock()
	r.inFlight++
	r.max = max(r.max, r.inFlight)
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.inFlight--; r.mu.Unlock() }()
	if id == r.fail {
		return nil, errors.New("disk on fire")
	}
	return r.Reader.Trace(ctx, id, hint)
}

func TestFetchConcurrencyBounded(t *testing.T) {
	st := fixture(t)
	var spans []*model.Span
	for i := range 40 {
		spans = append(spans, span(fmt.Sprintf("f%03x", i), "1", "", res("bulk"), "op", -time.Duration(i)*time.Second, time.Millisecond))
	}
	if err := st.Write(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	r := &gateReader{Reader: st}
	q := newService(t, r, nil) // FetchConcurrency 2
	traces, err := q.FindTracesFull(context.Background(), &query.Search{Query: storage.Query{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 43 {
		t.Errorf("got %d traces, want 43", len(traces))
	}
	if r.max > 2 {
		t.Errorf("%d concurrent fetches, want at most 2", r.max)
	}
}

func TestFetchError(t *testing.T) {
	r := &gateReader{Reader: fixture(t), fail: tid("a1")}
	q := newService(t, r, nil)
	_, err := q.FindTracesFull(context.Background(), &query.Search{})
	if err == nil || err.Error() != "disk on fire" {
		t.Errorf("got %v, want the backend's error", err)
	}
	if query.IsBadRequest(err) {
		t.Error("a backend failure is not a bad request")
	}
}
