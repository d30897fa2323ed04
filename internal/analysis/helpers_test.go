package analysis

import (
	"fmt"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// Hand-built traces: times are milliseconds after base, span IDs short hex.

var base = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

const testTrace = "0af7651916cd43dd8448eb211c80319c"

func ms(v float64) uint64 { return uint64(base.UnixNano()) + uint64(v*1e6) }

func dur(v float64) uint64 { return uint64(v * 1e6) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sid(s string) model.SpanID { return must(model.ParseSpanID(s)) }

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

// res builds a resource; attrs are key, value pairs.
func res(service string, attrs ...string) *model.Resource {
	r := &model.Resource{ServiceName: service, Attributes: []model.KeyValue{str("service.name", service)}}
	for i := 0; i+1 < len(attrs); i += 2 {
		r.Attributes = append(r.Attributes, str(attrs[i], attrs[i+1]))
	}
	return r
}

type opt func(*model.Span)

func kind(k model.SpanKind) opt { return func(s *model.Span) { s.Kind = k } }

func fail(msg string) opt {
	return func(s *model.Span) { s.StatusCode, s.StatusMessage = model.StatusError, msg }
}

func okStatus() opt { return func(s *model.Span) { s.StatusCode = model.StatusOK } }

func exception(typ, msg string) opt {
	return func(s *model.Span) {
		s.Events = append(s.Events, model.Event{TimeUnixNano: s.EndUnixNano, Name: "exception",
			Attributes: []model.KeyValue{str("exception.type", typ), str("exception.message", msg)}})
	}
}

func linkTo(id string, attrs ...model.KeyValue) opt {
	return func(s *model.Span) {
		s.Links = append(s.Links, model.Link{TraceID: s.TraceID, SpanID: sid(id), Attributes: attrs})
	}
}

func attr(k, v string) opt {
	return func(s *model.Span) { s.Attributes = append(s.Attributes, str(k, v)) }
}

// span builds a span of testTrace starting at start ms and lasting d ms.
func span(id, parent string, r *model.Resource, name string, start, d float64, opts ...opt) *model.Span {
	s := &model.Span{
		TraceID: must(model.ParseTraceID(testTrace)), SpanID: sid(id), Name: name, Kind: model.KindInternal,
		StartUnixNano: ms(start), EndUnixNano: ms(start + d), Resource: r,
	}
	if parent != "" {
		s.ParentSpanID = sid(parent)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func trace(spans ...*model.Span) *model.Trace {
	return &model.Trace{ID: must(model.ParseTraceID(testTrace)), Spans: spans}
}

// byName finds a node by span name.
func byName(t *Tree, name string) *Node {
	for _, nd := range t.Nodes {
		if nd.Span.Name == name {
			return nd
		}
	}
	panic("no span named " + name)
}

// shape renders a tree as "name(child,child)" with async children marked
// "~" and orphans "?", roots separated by spaces.
func shape(t *Tree) string {
	var out string
	var walk func(n *Node) string
	walk = func(n *Node) string {
		s := n.Span.Name
		if n.Async {
			s = "~" + s
		}
		if n.Orphan {
			s = "?" + s
		}
		if len(n.Children) > 0 {
			s += "("
			for i, c := range n.Children {
				if i > 0 {
					s += ","
				}
				s += walk(c)
			}
			s += ")"
		}
		return s
	}
	for i, r := range t.Roots {
		if i > 0 {
			out += " "
		}
		out += walk(r)
	}
	return out
}

// scenario traces shared by the tests of several files.

// slowLeaf: checkout → payment → bank, the bank call is slow.
func slowLeaf() *model.Trace {
	co, pay, bank := res("checkout"), res("payment"), res("bank")
	return trace(
		span("1", "", co, "GET /checkout", 0, 1000, kind(model.KindServer)),
		span("2", "1", co, "charge", 10, 950, kind(model.KindClient)),
		span("3", "2", pay, "POST /charge", 20, 930, kind(model.KindServer)),
		span("4", "3", pay, "authorize", 30, 900, kind(model.KindClient)),
		span("5", "4", bank, "authorize", 40, 700, kind(model.KindServer)),
		span("6", "1", co, "render", 965, 30),
	)
}

func fmtNs(ns uint64) string { return fmt.Sprintf("%.3gms", float64(ns)/1e6) }
