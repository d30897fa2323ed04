package analysis

// SelfTimes returns every node's self time, indexed by [Node.Index]: the
// part of the span's [Start, End] that none of its children covers. Children
// are clipped to the span, and overlapping children are counted once (the
// union of their intervals), so a span that waits on two parallel calls
// is not charged twice and its self time is never negative. Async
// children count like the others: while they run inside the span, the
// span's own work is not what the time went to.
func SelfTimes(t *Tree) []uint64 {
	out := make([]uint64, len(t.Nodes))
	for i, nd := range t.Nodes {
		out[i] = selfTime(nd)
	}
	return out
}

// selfTime is the span's duration minus the union of its children's
// clipped intervals. Children are sorted by Start, so one pass merges them.
func selfTime(nd *Node) uint64 {
	d := nd.Duration()
	if len(nd.Children) == 0 || d == 0 {
		return d
	}
	var covered uint64
	var curS, curE uint64
	open := false
	for _, c := range nd.Children {
		s, e := max(c.Start, nd.Start), min(c.End, nd.End)
		if e <= s {
			continue
		}
		switch {
		case !open:
			curS, curE, open = s, e, true
		case s <= curE:
			curE = max(curE, e)
		default:
			covered += curE - curS
			curS, curE = s, e
		}
	}
	if open {
		covered += curE - curS
	}
	return d - covered
}
