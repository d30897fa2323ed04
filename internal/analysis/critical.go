package analysis

import (
	"cmp"
	"slices"
)

// Segment is a stretch of the critical path spent in one span's own work
// (not in any child that the path passes through), in corrected Unix ns.
type Segment struct {
	Node       *Node
	Start, End uint64
}

// Step is one span on the critical path with everything the path spent in
// it: Contribution is the sum of its segments, and [Start, End] spans from
// its first segment to its last.
type Step struct {
	Node         *Node
	Start, End   uint64
	Contribution uint64
}

// CriticalPath finds the chain of work that determined the trace's
// end-to-end latency, and returns its segments in time order together with
// the end of that latency (its start is Root.Start; the segments tile
// [Root.Start, end] exactly).
//
// Within a span the rule is the standard backwards walk (Jaeger's, from
// Uber's CRISP): start at the span's end; repeatedly take the
// last-finishing synchronous child that ends at or before the current
// point, charge the gap after it to the span itself, walk into the child,
// and continue from the child's start; what is left before the first such
// child is the span's own. A child that overlaps the chosen one is not
// critical: the span was waiting on the other. Synchronous children that
// outlive their parent are clipped to it (the parent could not have
// waited for them).
//
// Async children (see [Node.Async]) are never on their parent's path:
// the parent did not wait for them. They can extend the trace, though:
// the trace ends at the latest end reachable from the root, where a
// synchronous child ends no later than its parent and an async child ends
// when it ends. When that latest end is an async span's, the path runs
// from the root down the chain of spans that launched it, then through
// it; time between a parent's end and the start of an async child it
// launched (a message waiting in a queue) is charged to the child.
//
// It runs in O(n log n) and uses O(n) memory.
func CriticalPath(t *Tree) ([]Segment, uint64) {
	if t.Root == nil {
		return nil, 0
	}
	sub := t.rootSubtree()
	// eff is each node's end as far as the root's latency is concerned.
	eff := make([]uint64, len(sub))
	last := t.Root
	for _, nd := range sub {
		switch {
		case nd.Parent == nil:
			eff[nd.Index] = nd.End
		case nd.Async:
			eff[nd.Index] = nd.End
		default:
			eff[nd.Index] = min(nd.End, eff[nd.Parent.Index])
		}
		if eff[nd.Index] > eff[last.Index] {
			last = nd
		}
	}
	end := eff[last.Index]

	var chain []*Node
	for x := last; x != nil; x = x.Parent {
		chain = append(chain, x)
	}
	slices.Reverse(chain)
	los := make([]uint64, len(chain))
	for i, x := range chain {
		los[i] = x.Start
		if i > 0 {
			los[i] = max(x.Start, los[i-1])
		}
	}

	w := &walker{}
	cur := end
	for i := len(chain) - 1; i >= 0; i-- {
		nd, hi := chain[i], eff[chain[i].Index]
		if i < len(chain)-1 && cur > hi {
			// The next span of the chain started after this one ended.
			w.emit(chain[i+1], hi, cur)
			cur = hi
		}
		w.walk(nd, los[i], hi, max(cur, los[i]))
		cur = los[i]
	}
	slices.Reverse(w.segs)
	return w.segs, end
}

// Steps merges a critical path's segments by span, ordered from the root:
// in tree pre-order, so each span is followed by the path's spans below it.
func Steps(segs []Segment) []Step {
	at := make(map[*Node]int, len(segs))
	var steps []Step
	for _, sg := range segs {
		i, ok := at[sg.Node]
		if !ok {
			i = len(steps)
			at[sg.Node] = i
			steps = append(steps, Step{Node: sg.Node, Start: sg.Start, End: sg.End})
		}
		st := &steps[i]
		st.Start, st.End = min(st.Start, sg.Start), max(st.End, sg.End)
		st.Contribution += sg.End - sg.Start
	}
	slices.SortFunc(steps, func(a, b Step) int { return cmp.Compare(a.Node.Index, b.Node.Index) })
	return steps
}

// Bottleneck returns the step with the largest contribution, the deeper
// one on ties (it is the more specific answer), or nil for no steps.
func Bottleneck(steps []Step) *Step {
	var best *Step
	for i := range steps {
		s := &steps[i]
		if best == nil || s.Contribution > best.Contribution ||
			s.Contribution == best.Contribution && s.Node.Depth > best.Node.Depth {
			best = s
		}
	}
	return best
}

// walker runs the backwards walk with an explicit stack, so that a trace
// 100,000 spans deep cannot exhaust the goroutine stack.
type walker struct {
	segs  []Segment // emitted backwards in time
	stack []frame
	arena []candidate // every frame's candidates, stacked
}

// candidate is a synchronous child clipped to its parent's window.
type candidate struct {
	n    *Node
	s, e uint64
}

// frame is one span being walked: its window [lo, hi], the current point
// cur, and its candidates arena[i:end] (sorted by end, latest first).
type frame struct {
	n             *Node
	lo, hi, cur   uint64
	base, i, stop int
}

func (w *walker) emit(n *Node, s, e uint64) {
	if e > s {
		w.segs = append(w.segs, Segment{Node: n, Start: s, End: e})
	}
}

// walk emits n's critical segments within [lo, cur] (children are clipped
// to [lo, hi]), newest first.
func (w *walker) walk(n *Node, lo, hi, cur uint64) {
	w.push(n, lo, hi, cur)
	for len(w.stack) > 0 {
		f := &w.stack[len(w.stack)-1]
		var next *candidate
		for f.i < f.stop && f.cur > f.lo {
			c := &w.arena[f.i]
			f.i++
			if c.e > f.cur {
				continue // overlaps the child taken last: not what we waited on
			}
			next = c
			break
		}
		if next != nil {
			w.emit(f.n, next.e, f.cur)
			f.cur = next.s
			w.push(next.n, next.s, next.e, next.e) // invalidates f
			continue
		}
		w.emit(f.n, f.lo, f.cur)
		w.arena = w.arena[:f.base]
		w.stack = w.stack[:len(w.stack)-1]
	}
}

func (w *walker) push(n *Node, lo, hi, cur uint64) {
	base := len(w.arena)
	for _, c := range n.Children {
		if c.Async {
			continue
		}
		s, e := max(c.Start, lo), min(c.End, hi)
		if e <= s {
			continue
		}
		w.arena = append(w.arena, candidate{n: c, s: s, e: e})
	}
	kids := w.arena[base:]
	if len(kids) > 1 {
		slices.SortFunc(kids, func(a, b candidate) int {
			if c := cmp.Compare(b.e, a.e); c != 0 {
				return c
			}
			if c := cmp.Compare(a.s, b.s); c != 0 {
				return c
			}
			return cmp.Compare(a.n.Index, b.n.Index)
		})
	}
	w.stack = append(w.stack, frame{n: n, lo: lo, hi: hi, cur: min(cur, hi), base: base, i: base, stop: len(w.arena)})
}
