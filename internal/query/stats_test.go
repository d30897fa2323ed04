package query_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

// onlyReader hides every optional interface of the backend it wraps.
type onlyReader struct{ query.Reader }

func TestOperationStats(t *testing.T) {
	ctx := context.Background()
	q := newService(t, fixture(t), nil)
	if !q.HasOperationStats() {
		t.Fatal("memstore reported without statistics")
	}
	got, err := q.OperationStats(ctx, storage.StatsQuery{Service: "api", Range: storage.TimeRange{Start: at(-time.Hour), End: at(0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Operation != "call" || len(got[0].Buckets) != 1 {
		t.Fatalf("OperationStats = %+v, want one bucket of api/call", got)
	}
	if b := got[0].Buckets[0]; b.Calls != 1 || b.Errors != 1 || b.StartUnixNano != at(-time.Hour) {
		t.Errorf("bucket = %d calls, %d errors from %d; want 1, 1 from %d", b.Calls, b.Errors, b.StartUnixNano, at(-time.Hour))
	}
	if _, err := q.OperationStats(ctx, storage.StatsQuery{Range: storage.TimeRange{Start: at(0), End: at(-time.Hour)}}); !query.IsBadRequest(err) {
		t.Errorf("reversed range: err = %v, want a bad request", err)
	}

	plain := newService(t, onlyReader{fixture(t)}, nil)
	if plain.HasOperationStats() {
		t.Error("HasOperationStats on a backend without statistics")
	}
	if _, err := plain.OperationStats(ctx, storage.StatsQuery{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("err = %v, want errors.ErrUnsupported", err)
	}
}

// Dependencies read from the edge statistics agree with those counted
// from the spans.
func TestDependenciesFromEdgeStats(t *testing.T) {
	ctx := context.Background()
	st := fixture(t)
	withStats, plain := newService(t, st, nil), newService(t, onlyReader{st}, nil)
	r := storage.TimeRange{Start: at(-24 * time.Hour), End: at(0)}
	got, err := withStats.Dependencies(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Dependencies(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("from edge statistics: %+v; from spans: %+v", got, want)
	}
	es, err := withStats.EdgeStats(ctx, storage.StatsQuery{Range: r})
	if err != nil || len(es) != len(want) {
		t.Errorf("EdgeStats = %+v, %v", es, err)
	}
	if _, err := plain.EdgeStats(ctx, storage.StatsQuery{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("EdgeStats without statistics: err = %v, want errors.ErrUnsupported", err)
	}
}
