package analysis

import "testing"

func TestWaterfall(t *testing.T) {
	tr := failingLeaf()
	w := NewWaterfall(tr.ID, Analyze(tr.Spans))
	if w.TraceID != testTrace || w.SpanCount != 6 || w.DurationNs != dur(1000) || len(w.Spans) != 6 {
		t.Fatalf("waterfall = %+v", w)
	}
	type row struct {
		name          string
		depth         int
		start         float64
		critical      float64
		origin, error bool
	}
	want := []row{
		{"GET /checkout", 0, 0, 20, false, true},
		{"charge", 1, 10, 20, false, true},
		{"POST /charge", 2, 20, 30, false, true},
		{"authorize", 3, 30, 200, false, true},
		{"authorize", 4, 40, 700, true, true},
		{"render", 1, 965, 30, false, false},
	}
	for i, x := range want {
		r := w.Spans[i]
		if r.Name != x.name || r.Depth != x.depth || r.StartNs != int64(dur(x.start)) || r.CriticalNs != dur(x.critical) ||
			r.ErrorOrigin != x.origin || r.Error != x.error {
			t.Errorf("row %d = %+v, want %+v", i, r, x)
		}
	}
	if w.Spans[4].Message != "deadline exceeded" || w.Spans[1].ParentSpanID != w.RootSpanID || w.Spans[0].ParentSpanID != "" {
		t.Errorf("rows = %+v", w.Spans)
	}
}
