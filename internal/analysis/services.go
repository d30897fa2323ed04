package analysis

import "slices"

// ServiceStat is what one service did in a trace.
type ServiceStat struct {
	Name       string
	SpanCount  int
	ErrorCount int
	// SelfTime is the sum of the self times of the service's spans.
	SelfTime uint64
	// First is the earliest span of the service (first visit).
	First *Node
}

// CallStat is one caller→callee edge of a trace's own service graph: a
// span whose parent belongs to another service.
type CallStat struct {
	From, To string
	Count    int
	// Total is the sum of the callee spans' durations.
	Total  uint64
	Errors int
}

// Services returns the trace's services in first-visit order (by the
// corrected start of their earliest span, ties in tree order) and its
// caller→callee edges in the order they were first taken. self is
// [SelfTimes]' result; failed tells which nodes failed, by index.
func Services(t *Tree, self []uint64, failed []bool) ([]ServiceStat, []CallStat) {
	order := slices.Clone(t.Nodes)
	slices.SortFunc(order, byStart)
	svcIdx := map[string]int{}
	var svcs []ServiceStat
	type edge struct{ from, to string }
	callIdx := map[edge]int{}
	var calls []CallStat
	for _, nd := range order {
		name := nd.Span.Service()
		i, ok := svcIdx[name]
		if !ok {
			i = len(svcs)
			svcIdx[name] = i
			svcs = append(svcs, ServiceStat{Name: name, First: nd})
		}
		st := &svcs[i]
		st.SpanCount++
		st.SelfTime += self[nd.Index]
		if failed[nd.Index] {
			st.ErrorCount++
		}
		p := nd.Parent
		if p == nil || p.Span.Service() == name {
			continue
		}
		k := edge{p.Span.Service(), name}
		j, ok := callIdx[k]
		if !ok {
			j = len(calls)
			callIdx[k] = j
			calls = append(calls, CallStat{From: k.from, To: k.to})
		}
		c := &calls[j]
		c.Count++
		c.Total += nd.Duration()
		if failed[nd.Index] {
			c.Errors++
		}
	}
	return svcs, calls
}
