package analysis

import (
	"testing"
	"time"
)

func TestRED(t *testing.T) {
	r, err := NewRED(base, base.Add(3*time.Second), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := res("a")
	for i, d := range []float64{10, 20, 30, 40} {
		r.Add(span("1", "", a, "x", float64(i)*100, d)) // bucket 0
	}
	r.Add(span("2", "", a, "x", 1500, 100, fail("boom"))) // bucket 1
	r.Add(span("3", "", a, "x", -1, 5))                   // before the window
	r.Add(span("4", "", a, "x", 3000, 5))                 // at its end: excluded
	got := r.Buckets()
	if len(got) != 3 {
		t.Fatalf("%d buckets", len(got))
	}
	want := []REDBucket{
		{StartUnixNano: ms(0), Count: 4, RatePerSecond: 4, P50Ns: int64(20 * time.Millisecond), P95Ns: int64(40 * time.Millisecond), P99Ns: int64(40 * time.Millisecond)},
		{StartUnixNano: ms(1000), Count: 1, ErrorCount: 1, RatePerSecond: 1, ErrorRatio: 1, P50Ns: int64(100 * time.Millisecond), P95Ns: int64(100 * time.Millisecond), P99Ns: int64(100 * time.Millisecond)},
		{StartUnixNano: ms(2000)},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("bucket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := NewRED(base, base.Add(time.Hour), time.Millisecond); err == nil {
		t.Error("too many buckets accepted")
	}
	if _, err := NewRED(base, base, time.Second); err == nil {
		t.Error("empty window accepted")
	}
}
