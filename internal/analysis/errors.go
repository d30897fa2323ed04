package analysis

import (
	"cmp"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// exceptionEvent is the OpenTelemetry name of an event recording an exception.
const exceptionEvent = "exception"

// Failed reports whether a span records a failure: an error status, or,
// unless its status says OK, an exception event or a legacy error=true
// attribute (OpenTracing, Zipkin). An explicit OK status means the span
// handled whatever it recorded.
func Failed(s *model.Span) bool {
	switch s.StatusCode {
	case model.StatusError:
		return true
	case model.StatusOK:
		return false
	}
	for i := range s.Events {
		if s.Events[i].Name == exceptionEvent {
			return true
		}
	}
	if v, ok := model.Find(s.Attributes, "error"); ok {
		return v.Type == model.TypeBool && v.Bool() || v.Type == model.TypeString && v.Str == "true"
	}
	return false
}

// ErrorDetail returns what a failed span says about its failure: the
// status message, else the last exception's message, else an
// error.message attribute; and the last exception's type, else the
// error.type attribute.
func ErrorDetail(s *model.Span) (message, exceptionType string) {
	message = s.StatusMessage
	for i := len(s.Events) - 1; i >= 0; i-- {
		e := &s.Events[i]
		if e.Name != exceptionEvent {
			continue
		}
		if v, ok := model.Find(e.Attributes, "exception.type"); ok && exceptionType == "" {
			exceptionType = v.AsString()
		}
		if v, ok := model.Find(e.Attributes, "exception.message"); ok && message == "" {
			message = v.AsString()
		}
		if exceptionType != "" && message != "" {
			break
		}
	}
	if message == "" {
		if v, ok := model.Find(s.Attributes, "error.message"); ok {
			message = v.AsString()
		}
	}
	if exceptionType == "" {
		if v, ok := model.Find(s.Attributes, "error.type"); ok {
			exceptionType = v.AsString()
		}
	}
	return message, exceptionType
}

// Recovery is a failed attempt that a later sibling retried successfully.
type Recovery struct {
	// Attempt is the failed span (the top of the failed attempt).
	Attempt *Node
	// RetriedBy is the first later sibling with the same service and name
	// that did not fail.
	RetriedBy *Node
}

// ErrorReport is where a trace's failures came from.
type ErrorReport struct {
	// Failed marks, by node index, the spans that record a failure.
	Failed []bool
	// Origin is where the failure started: a failed span not explained by
	// a failed child and not part of a recovered attempt. nil when every
	// failure was recovered, or nothing failed.
	Origin *Node
	// Chain lists Origin's failed ancestors, nearest first.
	Chain []*Node
	// OtherOrigins are further unexplained failures (parallel ones), in
	// tree order.
	OtherOrigins []*Node
	// Recovered lists failed attempts that a retry recovered, in tree order.
	Recovered []Recovery
}

// Errors finds where a trace's failures came from. The rules:
//
//   - A failed span is explained by a child when one of its children
//     failed and that failure was not recovered: the error came from
//     below. The origins are the failed spans that nothing explains.
//   - A failed span is a recovered attempt when a later sibling (started
//     after it) with the same service and span name did not fail: the
//     caller retried and the retry worked. If the parent failed anyway,
//     the retry only counts when another, unrecovered child explains the
//     parent's failure; a parent that failed with nothing but retried
//     attempts under it was not saved by them. Failures inside a
//     recovered attempt are recovered too, and do not explain their
//     ancestors' failures.
//   - Of several origins, the one whose failure demonstrably propagated
//     furthest is reported (the longest run of failed ancestors directly
//     above it: it is what made the request fail), then the one with the
//     most failed ancestors, the deeper, the earlier; the others are
//     OtherOrigins.
//
// It runs in O(n) plus a map operation per failed span.
func Errors(t *Tree) *ErrorReport {
	r := &ErrorReport{Failed: make([]bool, len(t.Nodes))}
	anyFailed := false
	for i, nd := range t.Nodes {
		if Failed(nd.Span) {
			r.Failed[i] = true
			anyFailed = true
		}
	}
	if !anyFailed {
		return r
	}

	// Recovered attempts: scan each parent's children from the last,
	// remembering the earliest later success per (service, name).
	type key struct{ svc, name string }
	recovered := make([]bool, len(t.Nodes))
	success := map[key]*Node{}
	var cands []Recovery
	for _, p := range t.Nodes {
		if !hasFailedChild(p, r.Failed) {
			continue
		}
		clear(success)
		cands = cands[:0]
		for i := len(p.Children) - 1; i >= 0; i-- {
			c := p.Children[i]
			k := key{c.Span.Service(), c.Span.Name}
			if !r.Failed[c.Index] {
				success[k] = c
				continue
			}
			if s := success[k]; s != nil && s.Start >= c.Start {
				cands = append(cands, Recovery{Attempt: c, RetriedBy: s})
				recovered[c.Index] = true
			}
		}
		if r.Failed[p.Index] && !hasFailedChild(p, r.Failed, recovered) {
			// The parent failed and only retried attempts failed under it:
			// the retries did not save it, so nothing was recovered.
			for _, x := range cands {
				recovered[x.Attempt.Index] = false
			}
			continue
		}
		r.Recovered = append(r.Recovered, cands...)
	}
	slices.SortFunc(r.Recovered, func(a, b Recovery) int { return cmp.Compare(a.Attempt.Index, b.Attempt.Index) })

	// Pre-order: a node is inside a recovered attempt when it or an
	// ancestor is one. Then failures that count explain their parents.
	inRecovered := recovered
	explained := make([]bool, len(t.Nodes))
	for _, nd := range t.Nodes {
		if p := nd.Parent; p != nil && inRecovered[p.Index] {
			inRecovered[nd.Index] = true
		}
		if r.Failed[nd.Index] && !inRecovered[nd.Index] && nd.Parent != nil {
			explained[nd.Parent.Index] = true
		}
	}
	// Rank origins by how far their failure demonstrably propagated: the
	// run of failed ancestors directly above, then all failed ancestors.
	type rank struct{ run, all int }
	var origins []*Node
	ranks := map[*Node]rank{}
	for _, nd := range t.Nodes {
		if !r.Failed[nd.Index] || inRecovered[nd.Index] || explained[nd.Index] {
			continue
		}
		origins = append(origins, nd)
		var rk rank
		contiguous := true
		for p := nd.Parent; p != nil; p = p.Parent {
			if r.Failed[p.Index] {
				rk.all++
				if contiguous {
					rk.run++
				}
			} else {
				contiguous = false
			}
		}
		ranks[nd] = rk
	}
	if len(origins) == 0 {
		return r
	}
	best := origins[0]
	for _, o := range origins[1:] {
		ro, rb := ranks[o], ranks[best]
		switch {
		case ro.run != rb.run:
			if ro.run > rb.run {
				best = o
			}
		case ro.all != rb.all:
			if ro.all > rb.all {
				best = o
			}
		case o.Depth != best.Depth:
			if o.Depth > best.Depth {
				best = o
			}
		case o.Start < best.Start:
			best = o
		}
	}
	r.Origin = best
	for p := best.Parent; p != nil; p = p.Parent {
		if r.Failed[p.Index] {
			r.Chain = append(r.Chain, p)
		}
	}
	for _, o := range origins {
		if o != best {
			r.OtherOrigins = append(r.OtherOrigins, o)
		}
	}
	return r
}

// hasFailedChild reports whether a child of p failed, not counting
// children marked in any of except.
func hasFailedChild(p *Node, failed []bool, except ...[]bool) bool {
next:
	for _, c := range p.Children {
		if !failed[c.Index] {
			continue
		}
		for _, x := range except {
			if x[c.Index] {
				continue next
			}
		}
		return true
	}
	return false
}
