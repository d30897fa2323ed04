package eval

import (
	"slices"
	"sort"

	"github.com/clew-tracing/clew/internal/traceql"
)

// structural evaluates a structural spanset operator on the spans l and r
// selected by its two sides:
//
//   - plain (> < >> << ~): the r spans related to some l span;
//   - negated (!> !< !>> !<< !~): the r spans related to no l span;
//   - union (&> &< &>> &<< &~): the r spans related to some l span and
//     the l spans related to some r span.
//
// "Related" reads left to right: l > r when r is a child of l, l < r when
// r is the parent of l, l >> r when r is below l, l << r when r is above l,
// l ~ r when they share a parent and are different spans.
func structural(op traceql.SpansetOp, l, r []*Span) []*Span {
	rel := op.Relation()
	fwd := related(rel, l, r)
	var out []*Span
	switch {
	case op.IsNegated():
		for i, s := range r {
			if !fwd[i] {
				out = append(out, s)
			}
		}
		return out
	case op.IsUnion():
		for i, s := range r {
			if fwd[i] {
				out = append(out, s)
			}
		}
		back := related(inverse(rel), r, l)
		for i, s := range l {
			if back[i] {
				out = append(out, s)
			}
		}
		return sortUnique(out)
	}
	for i, s := range r {
		if fwd[i] {
			out = append(out, s)
		}
	}
	return out
}

// inverse returns the relation read right to left.
func inverse(rel traceql.SpansetOp) traceql.SpansetOp {
	switch rel {
	case traceql.SpansetChild:
		return traceql.SpansetParent
	case traceql.SpansetParent:
		return traceql.SpansetChild
	case traceql.SpansetDesc:
		return traceql.SpansetAnce
	case traceql.SpansetAnce:
		return traceql.SpansetDesc
	}
	return rel
}

// related reports for each span of to whether some span of from stands in
// the relation rel to it. It runs in O((len(from)+len(to)) log len(from)),
// using parent pointers and the nested-set numbers.
func related(rel traceql.SpansetOp, from, to []*Span) []bool {
	out := make([]bool, len(to))
	if len(from) == 0 {
		return out
	}
	switch rel {
	case traceql.SpansetChild: // to's parent is in from
		in := spanSet(from)
		for i, s := range to {
			_, out[i] = in[s.Parent]
		}
	case traceql.SpansetParent: // to is the parent of a from span
		parents := map[*Span]struct{}{}
		for _, s := range from {
			if s.Parent != nil {
				parents[s.Parent] = struct{}{}
			}
		}
		for i, s := range to {
			_, out[i] = parents[s]
		}
	case traceql.SpansetSibling: // to shares a parent with a from span other than itself
		n := map[*Span]int{}
		in := spanSet(from)
		for _, s := range from {
			if s.Parent != nil {
				n[s.Parent]++
			}
		}
		for i, s := range to {
			if s.Parent == nil {
				continue
			}
			c := n[s.Parent]
			if _, self := in[s]; self {
				c--
			}
			out[i] = c > 0
		}
	case traceql.SpansetDesc: // a from span contains to
		// Nested-set intervals are laminar: some from interval contains
		// to's exactly when, among the from spans starting before to, one
		// ends after it.
		sorted := byLeft(from)
		maxRight := make([]int, len(sorted))
		for i, s := range sorted {
			maxRight[i] = s.Right
			if i > 0 {
				maxRight[i] = max(maxRight[i], maxRight[i-1])
			}
		}
		for i, s := range to {
			k := sort.Search(len(sorted), func(j int) bool { return sorted[j].Left >= s.Left })
			out[i] = k > 0 && maxRight[k-1] > s.Right
		}
	case traceql.SpansetAnce: // to contains a from span
		sorted := byLeft(from)
		for i, s := range to {
			k := sort.Search(len(sorted), func(j int) bool { return sorted[j].Left > s.Left })
			out[i] = k < len(sorted) && sorted[k].Left < s.Right
		}
	}
	return out
}

func spanSet(spans []*Span) map[*Span]struct{} {
	m := make(map[*Span]struct{}, len(spans))
	for _, s := range spans {
		m[s] = struct{}{}
	}
	return m
}

func byLeft(spans []*Span) []*Span {
	out := slices.Clone(spans)
	slices.SortFunc(out, func(a, b *Span) int { return a.Left - b.Left })
	return out
}
