package analysis

import (
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

func TestErrors(t *testing.T) {
	a, b, c := res("a"), res("b"), res("c")
	for _, tc := range []struct {
		name      string
		spans     []*model.Span
		origin    string   // "" for none
		chain     []string // failed ancestors, nearest first
		others    []string
		recovered map[string]string // attempt → retried by
	}{
		{
			name:  "nothing failed",
			spans: slowLeaf().Spans,
		},
		{
			name: "an error at a leaf propagates up",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, fail("500")),
				span("2", "1", b, "pay", 10, 80, fail("upstream failed")),
				span("3", "2", c, "bank", 20, 60, fail("timeout"), exception("TimeoutError", "read timed out")),
				span("4", "1", b, "ok sibling", 90, 5),
			},
			origin: "bank", chain: []string{"pay", "root"},
		},
		{
			name: "an error a retry recovered from is not an origin",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "call", 10, 30, kind(model.KindClient), fail("timeout")),
				span("3", "2", c, "serve", 12, 26, fail("overloaded")),
				span("4", "1", b, "call", 45, 30, kind(model.KindClient)),
			},
			recovered: map[string]string{"2": "4"},
		},
		{
			name: "a retry that also failed recovers nothing",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, fail("gave up")),
				span("2", "1", b, "call", 10, 30, fail("timeout")),
				span("3", "2", c, "serve", 12, 26, fail("overloaded")),
				span("4", "1", b, "call", 45, 30, fail("timeout")),
				span("5", "4", c, "serve", 47, 26, fail("overloaded again")),
			},
			origin: "3", chain: []string{"call", "root"}, others: []string{"5"},
		},
		{
			name: "a successful retry under a parent that failed anyway is no recovery",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, fail("failed")),
				span("2", "1", b, "call", 10, 30, fail("timeout")),
				span("4", "1", b, "call", 45, 30),
			},
			origin: "2", chain: []string{"root"},
		},
		{
			name: "a retry under a parent that failed for another reason is still a recovery",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, fail("failed")),
				span("2", "1", b, "query", 10, 5, fail("deadlock")),
				span("3", "1", b, "query", 16, 5),
				span("4", "1", c, "call", 30, 50, fail("timeout")),
			},
			origin: "call", chain: []string{"root"},
			recovered: map[string]string{"2": "3"},
		},
		{
			name: "an error the parent handled without failing",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "cache get", 10, 5, fail("miss")),
			},
			origin: "cache get",
		},
		{
			name: "an exception event without a status counts; an OK status overrides it",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, exception("IOError", "disk")),
				span("2", "1", b, "handled", 10, 5, okStatus(), exception("Retryable", "once")),
			},
			origin: "root",
		},
		{
			name: "a legacy error=true attribute counts",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100),
				span("2", "1", b, "legacy", 10, 5, attr("error", "true")),
			},
			origin: "legacy",
		},
		{
			name: "the origin that reached the root wins over a deeper handled one",
			spans: []*model.Span{
				span("1", "", a, "root", 0, 100, fail("x")),
				span("2", "1", b, "failing", 10, 20, fail("boom")),
				span("3", "1", b, "handler", 40, 50),
				span("4", "3", c, "deep", 41, 10),
				span("5", "4", c, "deeper", 42, 5, fail("handled")),
			},
			origin: "failing", chain: []string{"root"}, others: []string{"deeper"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := BuildTree(tc.spans)
			r := Errors(tr)
			name := func(nd *Node) string {
				// Span names repeat in some scenarios; fall back to the ID.
				n := 0
				for _, x := range tr.Nodes {
					if x.Span.Name == nd.Span.Name {
						n++
					}
				}
				if n > 1 {
					return trimID(nd.Span.SpanID)
				}
				return nd.Span.Name
			}
			got := ""
			if r.Origin != nil {
				got = name(r.Origin)
			}
			if got != tc.origin {
				t.Errorf("origin = %q, want %q", got, tc.origin)
			}
			var chain, others []string
			for _, nd := range r.Chain {
				chain = append(chain, nd.Span.Name)
			}
			for _, nd := range r.OtherOrigins {
				others = append(others, name(nd))
			}
			if !equalStrings(chain, tc.chain) {
				t.Errorf("chain = %v, want %v", chain, tc.chain)
			}
			if !equalStrings(others, tc.others) {
				t.Errorf("other origins = %v, want %v", others, tc.others)
			}
			rec := map[string]string{}
			for _, x := range r.Recovered {
				rec[trimID(x.Attempt.Span.SpanID)] = trimID(x.RetriedBy.Span.SpanID)
			}
			if len(rec) != len(tc.recovered) {
				t.Errorf("recovered = %v, want %v", rec, tc.recovered)
			}
			for k, v := range tc.recovered {
				if rec[k] != v {
					t.Errorf("recovered = %v, want %v", rec, tc.recovered)
				}
			}
		})
	}
}

// trimID renders a test span ID without its leading zeros.
func trimID(id model.SpanID) string {
	s := id.String()
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

func TestErrorDetail(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         *model.Span
		msg, typ  string
		hasFailed bool
	}{
		{"status message first", span("1", "", nil, "x", 0, 1, fail("timeout"), exception("T", "m")), "timeout", "T", true},
		{"else the exception's", span("1", "", nil, "x", 0, 1, exception("IOError", "disk full")), "disk full", "IOError", true},
		{"else attributes", span("1", "", nil, "x", 0, 1, fail(""), attr("error.type", "500"), attr("error.message", "bad")), "bad", "500", true},
		{"ok status is not a failure", span("1", "", nil, "x", 0, 1, okStatus(), attr("error", "true")), "", "", false},
	} {
		msg, typ := ErrorDetail(tc.s)
		if msg != tc.msg || typ != tc.typ || Failed(tc.s) != tc.hasFailed {
			t.Errorf("%s: %q %q %v, want %q %q %v", tc.name, msg, typ, Failed(tc.s), tc.msg, tc.typ, tc.hasFailed)
		}
	}
}
