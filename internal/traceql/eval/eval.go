package eval

import (
	"fmt"
	"slices"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
)

// Spanset is a set of spans of one trace selected by a query, with the
// values that grouping and aggregates attached to it.
type Spanset struct {
	// Spans are in the trace's order (start time, then span ID).
	Spans []*Span
	// Attributes are by() keys and aggregate results, in the order the
	// pipeline produced them, e.g. by(resource.service.name)="api",
	// count()=3.
	Attributes []Attribute
}

// Attribute is a named value attached to a spanset.
type Attribute struct {
	Name  string
	Value traceql.Value
}

// Evaluator runs a query's spanset pipeline on traces. It is built once
// per query by [Compile] and is safe for concurrent use.
type Evaluator struct {
	q *traceql.Query
	f fieldEval
	// filters records, per spanset filter, whether it refers to events
	// or links, which are iterated.
	filters map[*traceql.SpansetFilter]filterInfo
}

type filterInfo struct {
	events, links bool
}

// Compile prepares q (which must have passed [traceql.Validate]) for
// evaluation.
func Compile(q *traceql.Query) (*Evaluator, error) {
	e := &Evaluator{q: q, filters: map[*traceql.SpansetFilter]filterInfo{}}
	if err := e.f.compileRegexes(q); err != nil {
		return nil, fmt.Errorf("compile regular expression: %w", err)
	}
	traceql.Inspect(q, func(n traceql.Node) bool {
		sf, ok := n.(*traceql.SpansetFilter)
		if !ok || sf.Expr == nil {
			return true
		}
		var fi filterInfo
		traceql.Inspect(sf.Expr, func(n traceql.Node) bool {
			switch n := n.(type) {
			case *traceql.Attribute:
				fi.events = fi.events || (n.Scope == traceql.ScopeEvent && !n.Parent)
				fi.links = fi.links || (n.Scope == traceql.ScopeLink && !n.Parent)
			case *traceql.IntrinsicField:
				level := n.Intrinsic.Info().Level
				fi.events = fi.events || level == "event"
				fi.links = fi.links || level == "link"
			}
			return true
		})
		e.filters[sf] = fi
		return true
	})
	return e, nil
}

// Query returns the compiled query.
func (e *Evaluator) Query() *traceql.Query { return e.q }

// Spansets evaluates the query's spanset pipeline on the spans of t that
// start within r (all of them when r is zero); the trace matches when the
// result is not empty. Spans outside r take no part, but the trace's
// root, duration and tree still come from all its spans.
func (e *Evaluator) Spansets(t *Trace, r storage.TimeRange) []Spanset {
	spans := t.Spans
	if !r.IsZero() {
		spans = nil
		for _, s := range t.Spans {
			if r.Contains(s.StartUnixNano) {
				spans = append(spans, s)
			}
		}
	}
	if len(spans) == 0 {
		return nil
	}
	return e.pipeline(t, e.q.Pipeline, []Spanset{{Spans: spans}})
}

// MatchedSpans returns the spans of every spanset, each once, in trace order.
func MatchedSpans(sets []Spanset) []*Span {
	if len(sets) == 1 {
		return sets[0].Spans
	}
	var all []*Span
	for _, s := range sets {
		all = append(all, s.Spans...)
	}
	return sortUnique(all)
}

func (e *Evaluator) pipeline(t *Trace, p *traceql.Pipeline, in []Spanset) []Spanset {
	cur := in
	for _, st := range p.Stages {
		cur = e.stage(t, st, cur)
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}

func (e *Evaluator) stage(t *Trace, st traceql.Stage, in []Spanset) []Spanset {
	var out []Spanset
	switch st := st.(type) {
	case traceql.SpansetExpr:
		for _, ss := range in {
			out = append(out, e.spanset(t, st, ss)...)
		}
	case *traceql.ScalarFilter:
		for _, ss := range in {
			l := e.scalar(t, st.LHS, ss)
			r := e.scalar(t, st.RHS, ss)
			if !Compare(st.Op, l, r) {
				continue
			}
			ss.Attributes = slices.Clip(ss.Attributes)
			traceql.Inspect(st, func(n traceql.Node) bool {
				if a, ok := n.(*traceql.Aggregate); ok {
					ss.Attributes = append(ss.Attributes, Attribute{Name: a.String(), Value: e.aggregate(t, a, ss)})
					return false
				}
				return true
			})
			out = append(out, ss)
		}
	case *traceql.GroupBy:
		name := st.String()
		for _, ss := range in {
			var keys []traceql.Value
			groups := map[traceql.Value][]*Span{}
			for _, s := range ss.Spans {
				k := e.f.value(st.Expr, &binding{trace: t, span: s})
				if _, ok := groups[k]; !ok {
					keys = append(keys, k)
				}
				groups[k] = append(groups[k], s)
			}
			for _, k := range keys {
				attrs := append(slices.Clip(ss.Attributes), Attribute{Name: name, Value: k})
				out = append(out, Spanset{Spans: groups[k], Attributes: attrs})
			}
		}
	case *traceql.Select:
		out = in // the selected fields are added to the spans returned
	case *traceql.Coalesce:
		if len(in) > 0 {
			out = []Spanset{{Spans: MatchedSpans(in)}}
		}
	}
	return out
}

// spanset evaluates a spanset expression on one input spanset.
func (e *Evaluator) spanset(t *Trace, x traceql.SpansetExpr, in Spanset) []Spanset {
	switch x := x.(type) {
	case *traceql.SpansetFilter:
		spans := e.filter(t, x, in.Spans)
		if len(spans) == 0 {
			return nil
		}
		return []Spanset{{Spans: spans, Attributes: in.Attributes}}
	case *traceql.PipelineExpr:
		return e.pipeline(t, x.Pipeline, []Spanset{in})
	case *traceql.SpansetOperation:
		l := MatchedSpans(e.spanset(t, x.LHS, in))
		r := MatchedSpans(e.spanset(t, x.RHS, in))
		var spans []*Span
		switch x.Op {
		case traceql.SpansetAnd:
			if len(l) > 0 && len(r) > 0 {
				spans = sortUnique(append(slices.Clip(l), r...))
			}
		case traceql.SpansetOr:
			spans = sortUnique(append(slices.Clip(l), r...))
		default:
			spans = structural(x.Op, l, r)
		}
		if len(spans) == 0 {
			return nil
		}
		return []Spanset{{Spans: spans, Attributes: in.Attributes}}
	}
	return nil
}

// filter returns the spans for which the filter's expression holds. An
// expression that refers to events (or links) holds on a span when it
// holds for one of its events (links); a span without events is
// evaluated once with every event field nil.
func (e *Evaluator) filter(t *Trace, f *traceql.SpansetFilter, spans []*Span) []*Span {
	if f.Expr == nil {
		return spans
	}
	fi := e.filters[f]
	var out []*Span
	for _, s := range spans {
		if e.holds(t, f.Expr, s, fi) {
			out = append(out, s)
		}
	}
	return out
}

func (e *Evaluator) holds(t *Trace, x traceql.FieldExpr, s *Span, fi filterInfo) bool {
	b := binding{trace: t, span: s}
	if !fi.events && !fi.links {
		return truthy(e.f.value(x, &b))
	}
	nev, nln := 1, 1
	if fi.events && len(s.Events) > 0 {
		nev = len(s.Events)
	}
	if fi.links && len(s.Links) > 0 {
		nln = len(s.Links)
	}
	for i := range nev {
		b.event = nil
		if fi.events && len(s.Events) > 0 {
			b.event = &s.Events[i]
		}
		for j := range nln {
			b.link = nil
			if fi.links && len(s.Links) > 0 {
				b.link = &s.Links[j]
			}
			if truthy(e.f.value(x, &b)) {
				return true
			}
		}
	}
	return false
}

// Value evaluates a field expression on a span of t (event and link
// fields are nil). The API uses it to render select() fields.
func (e *Evaluator) Value(t *Trace, x traceql.FieldExpr, s *Span) traceql.Value {
	return e.f.value(x, &binding{trace: t, span: s})
}

// sortUnique sorts spans into trace order and drops repeats.
func sortUnique(spans []*Span) []*Span {
	slices.SortFunc(spans, func(a, b *Span) int { return a.Index - b.Index })
	return slices.Compact(spans)
}
