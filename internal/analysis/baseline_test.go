package analysis

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(hundred...), 0.5, 50 * time.Millisecond},
		{ms(hundred...), 0.99, 99 * time.Millisecond},
		{ms(hundred...), 1, 100 * time.Millisecond},
	} {
		if got := Quantile(tc.samples, tc.q); got != tc.want {
			t.Errorf("Quantile(%d samples, %v) = %v, want %v", len(tc.samples), tc.q, got, tc.want)
		}
	}
	b := NewBaseline(ms(5, 1, 4, 2, 3))
	if b.Count != 5 || b.P50 != 3*time.Millisecond || b.P99 != 5*time.Millisecond {
		t.Errorf("NewBaseline = %+v", b)
	}
	if p := b.Percentile(4500 * time.Microsecond); p != 80 {
		t.Errorf("Percentile = %v, want 80", p)
	}
	if p := (Baseline{Count: 3}).Percentile(time.Second); p != -1 {
		t.Errorf("Percentile without samples = %v", p)
	}
}

func TestChooseOperations(t *testing.T) {
	a := Analyze(slowLeaf().Spans)
	got := chooseOperations(a.Tree, a.Steps, 3)
	want := []opKey{{"checkout", "GET /checkout"}, {"bank", "authorize"}, {"payment", "authorize"}}
	if len(got) != len(want) {
		t.Fatalf("ops = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ops = %v, want %v", got, want)
		}
	}
	if all := chooseOperations(a.Tree, a.Steps, 100); len(all) != 6 {
		t.Errorf("every operation: %v", all)
	}
}

// fakeBaselines serves fixed baselines and records the queries.
type fakeBaselines struct {
	mu      sync.Mutex
	byOp    map[opKey]Baseline
	err     error
	queries []BaselineQuery
}

func (f *fakeBaselines) Baseline(ctx context.Context, q BaselineQuery) (Baseline, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return Baseline{}, f.err
	}
	return f.byOp[opKey{q.Service, q.Operation}], nil
}

// usual builds a baseline of n samples whose p50 and p99 are as given.
func usual(p50, p99 time.Duration, n int) Baseline {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = p50
		if i >= n/2 {
			s[i] = p99
		}
	}
	return NewBaseline(s)
}

func TestLookupBaselines(t *testing.T) {
	f := &fakeBaselines{err: errors.New("storage down")}
	ops := []opKey{{"a", "x"}, {"b", "y"}, {"c", "z"}, {"d", "w"}, {"e", "v"}}
	bls, errs := lookupBaselines(context.Background(), f, ops, rangeOf(time.Hour), [16]byte{1}, nil)
	if len(bls) != 5 || len(f.queries) != 5 {
		t.Fatalf("%d baselines, %d queries", len(bls), len(f.queries))
	}
	for i, err := range errs {
		if err == nil || bls[i].Count != 0 {
			t.Errorf("op %d: %v %+v", i, err, bls[i])
		}
	}
	if f.queries[0].Exclude != [16]byte{1} {
		t.Errorf("the explained trace is not excluded: %+v", f.queries[0])
	}
}
