package analysis

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// Node is one span of a [Tree], with its times corrected for clock skew.
// The stored span is never modified: every corrected or derived value
// lives on the Node, so a trace handed out by the query layer can be
// explained any number of times.
type Node struct {
	// Span is the stored span; read-only.
	Span *model.Span
	// Parent is nil for the tree's roots.
	Parent *Node
	// Children are sorted by corrected start time, then span ID.
	Children []*Node
	// Start and End are the span's times in Unix nanoseconds after
	// clock-skew correction (see [Tree] and skew.go).
	Start, End uint64
	// Skew is what the correction added to the stored times, in ns.
	Skew int64
	// Depth is 0 for a root.
	Depth int
	// Index is the node's position in [Tree.Nodes].
	Index int
	// Async is set when the parent did not wait for this span: a
	// FOLLOWS_FROM reference, a consumer of a producer, a span attached
	// through a link, or one that started after its parent had ended.
	// Async spans never sit on their parent's critical path, but they can
	// extend the trace past the root's end.
	Async bool
	// Orphan is set when the span's parent is not in the trace (not yet
	// arrived, or dropped) or its parent references form a cycle: it is
	// attached to the root so that its time is accounted for.
	Orphan bool
}

// Duration returns End-Start, or 0 when the span ends before it starts.
func (n *Node) Duration() uint64 {
	if n.End < n.Start {
		return 0
	}
	return n.End - n.Start
}

// Tree is a trace's spans arranged by their parent references. Building it
// resolves what real traces get wrong:
//
//   - Zipkin's shared spans give the client and server halves of one RPC
//     the same span ID: the server half becomes a child of the client
//     half, and children naming that ID hang under the half of their own
//     service (the server half when neither matches).
//   - Spans whose parent is missing are orphans, attached to the root.
//     When the root itself is missing, the earliest orphan stands in.
//   - A parentless span with a link to a span of the same trace hangs
//     under the linked span as an async child; other parentless spans
//     beyond the first are extra roots (Roots[1:]).
//   - Parent references that form a cycle are cut, and the cut span is
//     treated as an orphan.
//   - Clock skew between hosts is corrected on the nodes, as Jaeger does.
//
// Each of these adds a line to Warnings. A Tree is not safe for concurrent
// modification; reading it concurrently is fine.
type Tree struct {
	// Root is the span the trace is explained from; nil only for an empty trace.
	Root *Node
	// Roots lists Root and then the other top-level spans.
	Roots []*Node
	// Nodes is every span in pre-order: each root's subtree in turn,
	// children in start order. Root's subtree is a prefix of it.
	Nodes []*Node
	// Warnings says, in words, what was corrected or assumed.
	Warnings []string
}

// rootSubtree returns the prefix of Nodes that is the Root's subtree.
func (t *Tree) rootSubtree() []*Node {
	if len(t.Roots) > 1 {
		return t.Nodes[:t.Roots[1].Index]
	}
	return t.Nodes
}

// followsFromKey and followsFromValue mark a link that was a Jaeger
// FOLLOWS_FROM reference before translation to OTLP.
const (
	followsFromKey   = "opentracing.ref_type"
	followsFromValue = "follows_from"
)

// BuildTree arranges spans (of one trace, in any order) into a [Tree] and
// corrects clock skew. It runs in O(n log n) and does not modify the spans.
func BuildTree(spans []*model.Span) *Tree {
	t := &Tree{}
	n := 0
	for _, s := range spans {
		if s != nil {
			n++
		}
	}
	if n == 0 {
		return t
	}
	slab := make([]Node, 0, n)
	for _, s := range spans {
		if s != nil {
			slab = append(slab, Node{Span: s, Start: s.StartUnixNano, End: max(s.EndUnixNano, s.StartUnixNano), Index: len(slab)})
		}
	}
	nodes := make([]*Node, n)
	for i := range slab {
		nodes[i] = &slab[i]
	}
	// Ties in everything below are broken by input order, which the query
	// layer makes deterministic (start time, then span ID).
	slices.SortFunc(nodes, byStart)

	b := &builder{t: t, nodes: nodes, byID: make(map[model.SpanID]int, n), next: make([]int, n)}
	b.index()
	b.link()
	b.pickRoots()
	b.breakCycles()
	b.fillChildren()
	adjustSkew(t)
	b.finish()
	return t
}

// byStart orders nodes by start time, longer first on ties, then span ID,
// then Index: a total order, so unstable sorts are deterministic.
func byStart(a, b *Node) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(b.End, a.End); c != 0 {
		return c
	}
	if c := slices.Compare(a.Span.SpanID[:], b.Span.SpanID[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.Index, b.Index)
}

// maxSharedGroup bounds how many spans of one ID resolve() looks through.
// Zipkin shares an ID between two halves; a trace with hundreds of spans on
// one ID is broken, and its children simply go to the primary.
const maxSharedGroup = 8

// builder holds the scratch state of BuildTree.
type builder struct {
	t     *Tree
	nodes []*Node // sorted by start
	// byID maps a span ID to the first node carrying it; next chains the
	// others (Zipkin shared spans) in start order, -1 ending the chain.
	byID map[model.SpanID]int
	next []int
	// shared counts span IDs carried by more than one span.
	shared  int
	orphans []*Node
	tops    []*Node // parentless, in start order
	linked  int
	cycles  int
}

func (b *builder) index() {
	var tail map[model.SpanID]int
	for i, nd := range b.nodes {
		nd.Index = i
		b.next[i] = -1
		id := nd.Span.SpanID
		first, ok := b.byID[id]
		if !ok {
			b.byID[id] = i
			continue
		}
		if tail == nil {
			tail = map[model.SpanID]int{}
		}
		last, ok := tail[id]
		if !ok {
			b.shared++
			last = first
		}
		b.next[last] = i
		tail[id] = i
	}
}

// link sets every node's Parent.
func (b *builder) link() {
	// Shared span IDs: the client half (or the earliest) is the primary;
	// the others become its children.
	var primaries map[model.SpanID]*Node
	if b.shared > 0 {
		primaries = make(map[model.SpanID]*Node, b.shared)
		for id, first := range b.byID {
			if b.next[first] == -1 {
				continue
			}
			p := b.nodes[first]
			for j := first; j >= 0; j = b.next[j] {
				if b.nodes[j].Span.Kind == model.KindClient {
					p = b.nodes[j]
					break
				}
			}
			primaries[id] = p
			for j := first; j >= 0; j = b.next[j] {
				if b.nodes[j] != p {
					b.nodes[j].Parent = p
				}
			}
		}
		b.t.Warnings = append(b.t.Warnings, fmt.Sprintf(
			"%d span IDs are shared by more than one span (Zipkin style); each server half is shown as a child of its client half", b.shared))
	}
	for _, nd := range b.nodes {
		if nd.Parent != nil {
			continue // the server half of a shared span
		}
		s := nd.Span
		if s.ParentSpanID.IsZero() {
			if p := b.linkedParent(nd); p != nil {
				nd.Parent, nd.Async = p, true
				b.linked++
				continue
			}
			b.tops = append(b.tops, nd)
			continue
		}
		first, ok := b.byID[s.ParentSpanID]
		if !ok {
			b.orphans = append(b.orphans, nd)
			continue
		}
		p := b.resolve(nd, first, primaries[s.ParentSpanID])
		if p == nil {
			b.orphans = append(b.orphans, nd) // its own parent
			continue
		}
		nd.Parent = p
		nd.Async = isAsyncEdge(p.Span, s)
	}
	if b.linked > 0 {
		b.t.Warnings = append(b.t.Warnings, fmt.Sprintf(
			"%d spans without a parent link to a span of this trace; they are shown as its async children", b.linked))
	}
}

// resolve picks the parent among the nodes carrying a span ID: the only
// one; for a shared ID, the half of the child's own service (the server
// half first), else the last server half, else the primary.
func (b *builder) resolve(self *Node, first int, primary *Node) *Node {
	if primary == nil {
		if b.nodes[first] == self {
			return nil
		}
		return b.nodes[first]
	}
	svc := self.Span.Service()
	var same, server *Node
	seen := 0
	for j := first; j >= 0 && seen < maxSharedGroup; j = b.next[j] {
		seen++
		nd := b.nodes[j]
		if nd == self || nd == primary {
			continue
		}
		server = nd
		if same == nil && nd.Span.Service() == svc {
			same = nd
		}
	}
	switch {
	case same != nil:
		return same
	case primary.Span.Service() == svc && primary != self:
		return primary
	case server != nil:
		return server
	case primary != self:
		return primary
	}
	return nil
}

// linkedParent finds the first span of the same trace that a parentless
// span links to.
func (b *builder) linkedParent(nd *Node) *Node {
	for i := range nd.Span.Links {
		l := &nd.Span.Links[i]
		if l.TraceID != nd.Span.TraceID {
			continue
		}
		if j, ok := b.byID[l.SpanID]; ok && b.nodes[j] != nd {
			return b.nodes[j]
		}
	}
	return nil
}

// isAsyncEdge reports whether the parent did not wait for the child by
// their kinds or a FOLLOWS_FROM link; timing is checked after skew
// correction.
func isAsyncEdge(parent, child *model.Span) bool {
	if parent.Kind == model.KindProducer || child.Kind == model.KindConsumer {
		return true
	}
	for i := range child.Links {
		l := &child.Links[i]
		if l.SpanID != child.ParentSpanID {
			continue
		}
		if v, ok := model.Find(l.Attributes, followsFromKey); ok && v.AsString() == followsFromValue {
			return true
		}
	}
	return false
}

// pickRoots chooses Root: the earliest parentless span, else (the root has
// not arrived) the earliest orphan. The other orphans hang under it.
func (b *builder) pickRoots() {
	t := b.t
	switch {
	case len(b.tops) > 0:
		t.Roots = append(t.Roots, b.tops...)
	case len(b.orphans) > 0:
		root := b.orphans[0]
		b.orphans = b.orphans[1:]
		t.Roots = append(t.Roots, root)
		t.Warnings = append(t.Warnings, fmt.Sprintf(
			"the root span has not arrived; %s %s (whose parent %s is missing) stands in for it",
			root.Span.Service(), root.Span.Name, root.Span.ParentSpanID))
	default:
		return // every span is in a parent cycle: breakCycles picks one
	}
	t.Root = t.Roots[0]
	if len(t.Roots) > 1 {
		t.Warnings = append(t.Warnings, fmt.Sprintf(
			"the trace has %d spans without a parent; the earliest, %s %s, is explained as the root",
			len(t.Roots), t.Root.Span.Service(), t.Root.Span.Name))
	}
	for _, o := range b.orphans {
		o.Parent, o.Orphan = t.Root, true
	}
	if len(b.orphans) > 0 {
		t.Warnings = append(t.Warnings, fmt.Sprintf(
			"%d spans whose parent is missing from the trace are attached to the root", len(b.orphans)))
	}
}

// breakCycles finds nodes that no root reaches (their parent references
// form a cycle) and cuts each cycle at its earliest span. Every node is
// walked over once, so this is O(n).
func (b *builder) breakCycles() {
	const (
		unknown = iota
		visiting
		reaches
	)
	state := make([]uint8, len(b.nodes))
	var path []*Node
	for _, start := range b.nodes {
		if state[start.Index] == reaches {
			continue
		}
		path = path[:0]
		nd := start
		for nd != nil && state[nd.Index] == unknown {
			state[nd.Index] = visiting
			path = append(path, nd)
			nd = nd.Parent
		}
		if nd != nil && state[nd.Index] == visiting {
			// nd is on a cycle: the tail of path from nd.
			cut := nd
			for _, c := range path[slices.Index(path, nd):] {
				if byStart(c, cut) < 0 {
					cut = c
				}
			}
			b.cycles++
			if b.t.Root == nil {
				cut.Parent = nil
				b.t.Root = cut
				b.t.Roots = []*Node{cut}
			} else {
				cut.Parent, cut.Orphan, cut.Async = b.t.Root, true, false
			}
		}
		for _, p := range path {
			state[p.Index] = reaches
		}
	}
	if b.cycles > 0 {
		b.t.Warnings = append(b.t.Warnings, fmt.Sprintf(
			"%d cycles of parent references were cut; the cut spans are attached to the root", b.cycles))
	}
}

// fillChildren builds every Children slice from Parent, sharing one
// backing array.
func (b *builder) fillChildren() {
	count := make([]int, len(b.nodes))
	for _, nd := range b.nodes {
		if nd.Parent != nil {
			count[nd.Parent.Index]++
		}
	}
	all := make([]*Node, len(b.nodes))
	off := 0
	for i, nd := range b.nodes {
		nd.Children = all[off : off : off+count[i]]
		off += count[i]
	}
	for _, nd := range b.nodes {
		if p := nd.Parent; p != nil {
			p.Children = append(p.Children, nd)
		}
	}
}

// finish sorts children by corrected start, marks children that started
// after their parent ended as async, and lays the nodes out in pre-order.
func (b *builder) finish() {
	t := b.t
	for _, nd := range b.nodes {
		if len(nd.Children) > 1 {
			slices.SortFunc(nd.Children, byStart)
		}
		for _, c := range nd.Children {
			if !c.Async && !c.Orphan && c.Start >= nd.End && nd.End > nd.Start {
				c.Async = true
			}
		}
	}
	slices.SortFunc(t.Roots[1:], byStart)
	t.Nodes = make([]*Node, 0, len(b.nodes))
	stack := make([]*Node, 0, 64)
	for _, r := range t.Roots {
		r.Depth = 0
		stack = append(stack[:0], r)
		for len(stack) > 0 {
			nd := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			nd.Index = len(t.Nodes)
			t.Nodes = append(t.Nodes, nd)
			for i := len(nd.Children) - 1; i >= 0; i-- {
				c := nd.Children[i]
				c.Depth = nd.Depth + 1
				stack = append(stack, c)
			}
		}
	}
	if len(t.Nodes) != len(b.nodes) {
		panic(fmt.Sprintf("BUG: tree reaches %d of %d spans", len(t.Nodes), len(b.nodes)))
	}
}
