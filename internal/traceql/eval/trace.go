package eval

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// Trace is a trace prepared for evaluation: its spans in start order, each
// linked to its parent and children and numbered as a nested set, so that
// structural operators are cheap.
//
// A Trace is read-only once built and safe for concurrent use.
type Trace struct {
	ID model.TraceID
	// Spans are sorted by start time, then span ID.
	Spans []*Span
	// Root is the earliest span without a parent, nil when the root has
	// not arrived.
	Root *Span
	// Start and End bound the spans in Unix nanoseconds.
	Start, End uint64
}

// Span is a span of a [Trace] with its place in the tree.
type Span struct {
	*model.Span
	// Index is the span's position in Trace.Spans.
	Index int
	// Parent is nil for roots and for spans whose parent is missing or
	// would close a cycle.
	Parent   *Span
	Children []*Span
	// Left and Right are the span's nested-set numbers: a span is an
	// ancestor of another exactly when its interval contains the
	// other's. Roots and orphans each start a tree of their own.
	Left, Right int
}

// NewTrace prepares t for evaluation. It does not modify t.
//
// Spans are linked to their parent by ParentSpanID. When several spans
// share an ID (Zipkin's shared client and server spans), children are
// attached to the server one, which is the one that did the work they
// describe.
func NewTrace(t *model.Trace) *Trace {
	tr := &Trace{ID: t.ID, Spans: make([]*Span, len(t.Spans))}
	for i, s := range t.Spans {
		tr.Spans[i] = &Span{Span: s}
	}
	slices.SortStableFunc(tr.Spans, func(a, b *Span) int {
		if c := cmp.Compare(a.StartUnixNano, b.StartUnixNano); c != 0 {
			return c
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:])
	})
	byID := make(map[model.SpanID]*Span, len(tr.Spans))
	for i, s := range tr.Spans {
		s.Index = i
		if i == 0 || s.StartUnixNano < tr.Start {
			tr.Start = s.StartUnixNano
		}
		tr.End = max(tr.End, s.EndUnixNano)
		if prev, ok := byID[s.SpanID]; !ok || (prev.Kind != model.KindServer && s.Kind == model.KindServer) {
			byID[s.SpanID] = s
		}
	}
	for _, s := range tr.Spans {
		if s.ParentSpanID.IsZero() {
			continue
		}
		if p := byID[s.ParentSpanID]; p != nil && p != s {
			s.Parent = p
		}
	}
	tr.number()
	for _, s := range tr.Spans {
		if s.Parent == nil && s.ParentSpanID.IsZero() && tr.Root == nil {
			tr.Root = s
		}
	}
	return tr
}

// number assigns nested-set numbers by a depth-first walk from every
// span without a parent, in start order. Spans on a parent cycle are not
// reached that way; the first of them is cut from its parent and walked
// as a root, until every span is numbered.
func (t *Trace) number() {
	for _, s := range t.Spans {
		if s.Parent != nil {
			s.Parent.Children = append(s.Parent.Children, s)
		}
	}
	n := 0
	walk := func(root *Span) {
		type frame struct {
			s    *Span
			next int
		}
		n++
		root.Left = n
		stack := []frame{{s: root}}
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(f.s.Children) {
				c := f.s.Children[f.next]
				f.next++
				if c.Left != 0 {
					continue // reached twice: only through a cycle
				}
				n++
				c.Left = n
				stack = append(stack, frame{s: c})
				continue
			}
			n++
			f.s.Right = n
			stack = stack[:len(stack)-1]
		}
	}
	for _, s := range t.Spans {
		if s.Parent == nil {
			walk(s)
		}
	}
	for _, s := range t.Spans {
		if s.Left != 0 {
			continue
		}
		// On a cycle: detach from the parent and make it a root.
		p := s.Parent
		p.Children = slices.DeleteFunc(p.Children, func(c *Span) bool { return c == s })
		s.Parent = nil
		walk(s)
	}
}

// IsAncestorOf reports whether s is a proper ancestor of o.
func (s *Span) IsAncestorOf(o *Span) bool { return s.Left < o.Left && o.Right < s.Right }
