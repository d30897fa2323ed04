package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Sketch
	vals := make([]float64, 100_000)
	for i := range vals {
		vals[i] = math.Exp(r.NormFloat64()*2 + 12) // log-normal latencies around 160 µs in ns
		s.Add(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		want := vals[max(int(math.Ceil(q*float64(len(vals)))), 1)-1]
		got := s.Quantile(q)
		if rel := math.Abs(got-want) / want; rel > RelativeAccuracy*1.01 {
			t.Errorf("q%.3f = %.0f, want %.0f (rel err %.4f)", q, got, want, rel)
		}
	}
	if s.Count() != uint64(len(vals)) || s.Min() != vals[0] || s.Max() != vals[len(vals)-1] {
		t.Errorf("count/min/max = %d/%v/%v", s.Count(), s.Min(), s.Max())
	}
}

func TestMergeEqualsAddingAll(t *testing.T) {
	var a, b, all Sketch
	for i := 1; i <= 1000; i++ {
		v := float64(i * i)
		all.Add(v)
		if i%3 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Add(0)
	all.Add(0)
	a.Merge(&b)
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, direct %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Sum() != all.Sum() {
		t.Errorf("merged count/sum %d/%v, direct %d/%v", a.Count(), a.Sum(), all.Count(), all.Sum())
	}
}

func TestEmptyAndEdgeValues(t *testing.T) {
	var s Sketch
	if s.Quantile(0.5) != 0 {
		t.Error("empty sketch quantile not 0")
	}
	s.Add(-5)
	s.Add(math.NaN())
	s.Add(0.5)
	if s.Count() != 3 || s.Quantile(1) != 0.5 {
		t.Errorf("count %d, max quantile %v", s.Count(), s.Quantile(1))
	}
	s.Add(1e15)
	s.Add(1)
	if got := s.Quantile(1); got != 1e15 {
		t.Errorf("max = %v", got)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	var s Sketch
	for i := 0; i < 500; i++ {
		s.Add(float64(i * 1000))
	}
	b, _ := s.MarshalBinary()
	var d Sketch
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if d.Count() != s.Count() || d.Quantile(0.99) != s.Quantile(0.99) || d.Sum() != s.Sum() {
		t.Error("round trip changed the sketch")
	}
	for i := range b {
		if err := d.UnmarshalBinary(b[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	var s Sketch
	s.Add(12345)
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Sketch
		if s.UnmarshalBinary(b) == nil {
			s.Quantile(0.5)
			s.Merge(&s)
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	var s Sketch
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(float64(i%100000 + 1))
	}
}

func TestCountBelow(t *testing.T) {
	var s Sketch
	for i := 1; i <= 1000; i++ {
		s.Add(float64(i))
	}
	f := func(v float64, lo, hi uint64) {
		t.Helper()
		if got := s.CountBelow(v); got < lo || got > hi {
			t.Errorf("CountBelow(%v) = %d, want in [%d, %d]", v, got, lo, hi)
		}
	}
	f(0, 0, 0)
	f(1, 0, 0)
	f(500, 490, 500)
	f(1001, 1000, 1000)
	var empty Sketch
	if empty.CountBelow(5) != 0 {
		t.Error("CountBelow on an empty sketch")
	}
}

func TestRemoveAndClone(t *testing.T) {
	var s Sketch
	for i := 1; i <= 100; i++ {
		s.Add(float64(i))
	}
	s.Add(0.5)
	c := s.Clone()
	c.Remove(100)
	c.Remove(0.5)
	c.Remove(1e9) // never added: no-op
	if c.Count() != 99 || s.Count() != 101 {
		t.Fatalf("counts %d, %d; want 99, 101", c.Count(), s.Count())
	}
	if got := c.Quantile(0.99); math.Abs(got-98) > 98*RelativeAccuracy {
		t.Errorf("p99 after removing the max = %v, want about 98", got)
	}
	if got := s.Quantile(1); got != 100 {
		t.Errorf("original changed: max quantile %v", got)
	}
}

func TestFromBinsMatchesAdd(t *testing.T) {
	var want Sketch
	zeros := uint64(0)
	counts := map[int32]uint64{}
	sum, lo, hi := 0.0, math.Inf(1), 0.0
	for i := range 5000 {
		v := float64((i * 7919) % 100_000)
		want.Add(v)
		sum += v
		lo, hi = min(lo, v), max(hi, v)
		if v < 1 {
			zeros++
			continue
		}
		counts[int32(math.Ceil(math.Log(v)/LogGamma()))]++
	}
	var idx []int32
	var ns []uint64
	for i, n := range counts {
		idx = append(idx, i)
		ns = append(ns, n)
	}
	got := FromBins(zeros, idx, ns, sum, lo, hi)
	if got.Count() != want.Count() || got.Sum() != want.Sum() || got.Min() != want.Min() || got.Max() != want.Max() {
		t.Fatalf("aggregates: got %d/%v/%v/%v, want %d/%v/%v/%v", got.Count(), got.Sum(), got.Min(), got.Max(),
			want.Count(), want.Sum(), want.Min(), want.Max())
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		if g, w := got.Quantile(q), want.Quantile(q); g != w {
			t.Errorf("q%v: got %v, want %v", q, g, w)
		}
	}
	if e := FromBins(0, nil, nil, 1, 2, 3); e.Count() != 0 || e.Quantile(0.5) != 0 {
		t.Errorf("empty FromBins: count %d", e.Count())
	}
}
