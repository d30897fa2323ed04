package analysis

import (
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

func TestCriticalPath(t *testing.T) {
	a, b := res("a"), res("b")
	for _, tc := range []struct {
		name       string
		spans      []*model.Span
		end        float64            // ms after the root's start
		want       map[string]float64 // contribution in ms by span name; others must be off the path
		order      []string           // step order, from the root
		bottleneck string
	}{
		{
			name:  "a slow leaf three services deep",
			spans: slowLeaf().Spans,
			end:   1000,
			want: map[string]float64{"GET /checkout": 20, "charge": 20, "POST /charge": 30,
				"payment authorize": 200, "bank authorize": 700, "render": 30},
			order:      []string{"GET /checkout", "charge", "POST /charge", "payment authorize", "bank authorize", "render"},
			bottleneck: "bank authorize",
		},
		{
			name: "overlapping parallel children: only the last to finish is waited on",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "x", 10, 50),
				span("3", "1", b, "y", 20, 70),
				span("4", "1", b, "z", 30, 20),
			},
			end:        100,
			want:       map[string]float64{"root": 30, "y": 70},
			bottleneck: "y",
		},
		{
			name: "fan-out then a sequential call",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "p1", 0, 30),
				span("3", "1", b, "p2", 0, 40),
				span("4", "1", b, "next", 45, 50),
			},
			end:        100,
			want:       map[string]float64{"root": 10, "p2": 40, "next": 50},
			order:      []string{"root", "p2", "next"},
			bottleneck: "next",
		},
		{
			name: "an async child that outlives the root extends the trace",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "enqueue", 10, 10, kind(model.KindProducer)),
				span("3", "2", b, "process", 150, 250, kind(model.KindConsumer)),
				span("4", "1", a, "work", 20, 80),
			},
			end: 400,
			// process is charged its 130 ms in the queue too; work is not
			// on the path: the root's end no longer decides the latency.
			want:       map[string]float64{"root": 10, "enqueue": 10, "process": 380},
			bottleneck: "process",
		},
		{
			name: "an async child inside the root is not waited on",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "consume", 10, 80, kind(model.KindConsumer)),
			},
			end:        100,
			want:       map[string]float64{"root": 100},
			bottleneck: "root",
		},
		{
			name: "a synchronous child that outlives its parent is clipped",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", a, "slow", 50, 150),
			},
			end:        100,
			want:       map[string]float64{"root": 50, "slow": 50},
			bottleneck: "slow", // ties go to the deeper span
		},
		{
			name:       "a skewed clock is corrected before the walk",
			spans:      skewedClock().Spans,
			end:        1000,
			want:       map[string]float64{"GET /checkout": 50, "charge": 20, "POST /charge": 30, "payment authorize": 200, "bank authorize": 700},
			bottleneck: "bank authorize",
		},
		{
			name: "zero-length children are skipped",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 10),
				span("2", "1", a, "instant", 5, 0),
			},
			end:        10,
			want:       map[string]float64{"root": 10},
			bottleneck: "root",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := BuildTree(tc.spans)
			segs, end := CriticalPath(tr)
			if end != ms(tc.end) {
				t.Errorf("end = %s, want %vms", fmtNs(end-ms(0)), tc.end)
			}
			// Segments tile [root start, end] in time order.
			at := tr.Root.Start
			for _, s := range segs {
				if s.Start != at || s.End <= s.Start {
					t.Fatalf("segments do not tile: %s [%s, %s] after %s", s.Node.Span.Name, fmtNs(s.Start-ms(0)), fmtNs(s.End-ms(0)), fmtNs(at-ms(0)))
				}
				at = s.End
			}
			if at != end {
				t.Errorf("segments end at %s, want %s", fmtNs(at-ms(0)), fmtNs(end-ms(0)))
			}
			steps := Steps(segs)
			got := map[string]float64{}
			var order []string
			for _, s := range steps {
				name := label(s.Node, tc.want)
				got[name] = float64(s.Contribution) / 1e6
				order = append(order, name)
			}
			for name, w := range tc.want {
				if got[name] != w {
					t.Errorf("%s: contribution %vms, want %vms (path %v)", name, got[name], w, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("path %v, want %v", got, tc.want)
			}
			if tc.order != nil && !equalStrings(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			if bn := Bottleneck(steps); bn == nil || label(bn.Node, tc.want) != tc.bottleneck {
				t.Errorf("bottleneck = %v, want %s", bn, tc.bottleneck)
			}
		})
	}
}

// label names a node by span name, or "service name" when want uses that
// form (the scenarios reuse names across services).
func label(nd *Node, want map[string]float64) string {
	if long := nd.Span.Service() + " " + nd.Span.Name; want[long] != 0 {
		return long
	}
	return nd.Span.Name
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCriticalPathDeepChain(t *testing.T) {
	// 100,000 nested spans: the explicit stack must not overflow and the
	// innermost span is the bottleneck.
	const n = 100_000
	a := res("a")
	spans := make([]*model.Span, n)
	for i := range spans {
		parent := ""
		if i > 0 {
			parent = spanHex(i - 1)
		}
		s := span(spanHex(i), parent, a, "nested", 0, 0)
		s.StartUnixNano = ms(0) + uint64(i)
		s.EndUnixNano = ms(0) + uint64(2*n-i)
		spans[i] = s
	}
	tr := BuildTree(spans)
	segs, end := CriticalPath(tr)
	if end != tr.Root.End || len(Steps(segs)) != n {
		t.Fatalf("end %d, %d steps", end, len(Steps(segs)))
	}
	if bn := Bottleneck(Steps(segs)); bn.Node.Depth != n-1 {
		t.Errorf("bottleneck at depth %d", bn.Node.Depth)
	}
}

func spanHex(i int) string {
	const digits = "0123456789abcdef"
	b := []byte("0000000000000000")
	for j := 15; j >= 0 && i > 0; j-- {
		b[j] = digits[i%16]
		i /= 16
	}
	if string(b) == "0000000000000000" {
		b[15] = 'f' // never the all-zero ID
		b[0] = 'f'
	}
	return string(b)
}
