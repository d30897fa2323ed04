package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// clockKeys are the resource attributes that identify a clock: spans whose
// resources agree on the first of these that is present (and on the
// service when none is) were timed by the same clock, so their relative
// times are trusted.
var clockKeys = []string{"host.id", "host.name", "k8s.pod.uid", "service.instance.id"}

// clockOf names the clock that timed a span's resource.
func clockOf(r *model.Resource) string {
	if r == nil {
		return ""
	}
	for _, k := range clockKeys {
		if v, ok := model.Find(r.Attributes, k); ok && v.AsString() != "" {
			return k + "=" + v.AsString()
		}
	}
	return "service=" + r.ServiceName
}

// adjustSkew corrects clock skew between clocks, as Jaeger's adjuster
// does. Walking down from each root, a span timed by the same clock as its
// parent inherits the parent's correction. A span on a different clock
// gets its own:
//
//   - a synchronous child that does not fit inside its parent and is not
//     longer than it is centred in the parent, assuming the network took
//     the same time each way;
//   - a child longer than its parent, and an async child, are only moved
//     so that they do not start before the parent (their end may
//     legitimately be later).
//
// Orphans and extra roots are not corrected: their relation to the root is
// unknown. The correction is applied to the nodes' Start/End, never to the
// stored spans.
func adjustSkew(t *Tree) {
	if t.Root == nil {
		return
	}
	clocks := map[*model.Resource]string{}
	clock := func(nd *Node) string {
		r := nd.Span.Resource
		c, ok := clocks[r]
		if !ok {
			c = clockOf(r)
			clocks[r] = c
		}
		return c
	}
	type moved struct {
		spans int
		skew  int64
	}
	var bySvc map[string]*moved
	stack := append([]*Node(nil), t.Roots...)
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack = append(stack, nd.Children...)
		p := nd.Parent
		if p == nil || nd.Orphan {
			continue
		}
		skew := p.Skew
		if clock(nd) != clock(p) {
			skew = skewOf(nd.Span.StartUnixNano, nd.Span.EndUnixNano, p.Start, p.End, nd.Async)
		}
		if skew == 0 {
			continue
		}
		nd.Skew = skew
		nd.Start, nd.End = shift(nd.Start, skew), shift(nd.End, skew)
		if bySvc == nil {
			bySvc = map[string]*moved{}
		}
		m := bySvc[nd.Span.Service()]
		if m == nil {
			m = &moved{}
			bySvc[nd.Span.Service()] = m
		}
		m.spans++
		if abs(skew) > abs(m.skew) {
			m.skew = skew
		}
	}
	svcs := make([]string, 0, len(bySvc))
	for s := range bySvc {
		svcs = append(svcs, s)
	}
	slices.Sort(svcs)
	for _, s := range svcs {
		m := bySvc[s]
		sign := "+"
		if m.skew < 0 {
			sign = "-"
		}
		t.Warnings = append(t.Warnings, fmt.Sprintf(
			"clock skew: %d %s of %s moved by up to %s%s so that they fit within their callers, whose clock differs (as Jaeger adjusts)",
			m.spans, plural(m.spans, "span", "spans"), s, sign, FormatDuration(uint64(abs(m.skew)))))
	}
}

// skewOf is Jaeger's calculateSkew: the correction for a child with stored
// times [cs, ce] under a parent already at [ps, pe].
func skewOf(cs, ce, ps, pe uint64, async bool) int64 {
	cd, pd := int64(ce-cs), int64(pe-ps)
	if ce < cs {
		cd = 0
	}
	if pe < ps {
		pd = 0
	}
	if async || cd > pd {
		if cs < ps {
			return int64(ps - cs)
		}
		return 0
	}
	if cs >= ps && ce <= pe {
		return 0
	}
	latency := (pd - cd) / 2
	return int64(ps) + latency - int64(cs)
}

func shift(t uint64, d int64) uint64 {
	if d < 0 && uint64(-d) > t {
		return 0
	}
	return uint64(int64(t) + d)
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FormatDuration renders nanoseconds the way a person writes a latency:
// "1.0 s", "950 ms", "5.5 ms", "800 µs", "120 ns", "24 h".
func FormatDuration(ns uint64) string {
	d := time.Duration(ns)
	f := func(v float64, unit string) string {
		if v < 10 {
			return trimZero(fmt.Sprintf("%.1f", v)) + " " + unit
		}
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	switch {
	case d >= time.Hour:
		return f(d.Hours(), "h")
	case d >= time.Minute:
		return f(d.Minutes(), "min")
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Millisecond:
		return f(float64(d)/1e6, "ms")
	case d >= time.Microsecond:
		return f(float64(d)/1e3, "µs")
	}
	return fmt.Sprintf("%d ns", ns)
}

// trimZero turns "5.0" into "5" but keeps "5.5".
func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
