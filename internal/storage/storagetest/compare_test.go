package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

func TestDiffSpans(t *testing.T) {
	want := GenerateTraces(5, 3, 4, time.Unix(1_700_000_000, 0))
	if d := DiffSpans(want, cloneSpans(want)); d != "" {
		t.Errorf("copies differ: %s", d)
	}
	reordered := cloneSpans(want)
	slices.Reverse(reordered)
	for _, s := range reordered {
		slices.Reverse(s.Attributes) // attribute order does not matter
	}
	if d := DiffSpans(want, reordered); d != "" {
		t.Errorf("reordered spans differ: %s", d)
	}
	empty := cloneSpans(want[:1])
	empty[0].Events, empty[0].Links = []model.Event{}, []model.Link{}
	orig := cloneSpans(want[:1])
	orig[0].Events, orig[0].Links = nil, nil
	if d := DiffSpans(orig, empty); d != "" {
		t.Errorf("nil and empty lists differ: %s", d)
	}

	f := func(what string, change func([]*model.Span) []*model.Span, wantIn ...string) {
		t.Helper()
		got := change(cloneSpans(want))
		d := DiffSpans(want, got)
		if d == "" {
			t.Errorf("%s: no difference reported", what)
			return
		}
		for _, w := range wantIn {
			if !strings.Contains(d, w) {
				t.Errorf("%s: diff does not mention %q:\n%s", what, w, d)
			}
		}
	}
	f("name", func(s []*model.Span) []*model.Span { s[2].Name = "other"; return s }, "differs", `name "other"`)
	f("attribute type", func(s []*model.Span) []*model.Span {
		s[0].Attributes[0].Value = model.StringValue(s[0].Attributes[0].Value.AsString() + "x")
		return s
	}, "differs")
	f("resource", func(s []*model.Span) []*model.Span {
		r := *s[1].Resource
		r.SchemaURL = "other"
		s[1].Resource = &r
		return s
	}, `schema="other"`)
	f("scope", func(s []*model.Span) []*model.Span { s[1].Scope = nil; return s }, "scope <nil>")
	f("event order", func(s []*model.Span) []*model.Span {
		s[0].Events = []model.Event{{Name: "b"}, {Name: "a"}}
		return s
	}, "event[0]")
	f("missing", func(s []*model.Span) []*model.Span { return s[1:] }, "missing span", "1 missing")
	f("duplicate", func(s []*model.Span) []*model.Span { return append(s, cloneSpans(s[:1])...) }, "extra span", "1 extra")
	f("double bits", func(s []*model.Span) []*model.Span {
		a, b := 0.1, 0.2
		s[0].Attributes = append(s[0].Attributes, model.KeyValue{Key: "d", Value: model.DoubleValue(a + b)})
		return s
	}, "0.30000000000000004")
}

func TestCloneSpansSharesLikeTheOriginal(t *testing.T) {
	spans := GenerateTraces(6, 2, 6, time.Unix(1_700_000_000, 0))
	c := cloneSpans(spans)
	for i := range spans {
		for j := range spans {
			if (spans[i].Resource == spans[j].Resource) != (c[i].Resource == c[j].Resource) {
				t.Fatalf("resource sharing of spans %d and %d changed", i, j)
			}
		}
		if c[i].Resource == spans[i].Resource || c[i] == spans[i] {
			t.Fatalf("span %d not copied", i)
		}
	}
	c[0].Attributes[0].Key = "changed"
	c[0].Resource.Attributes[0].Key = "changed"
	if spans[0].Attributes[0].Key == "changed" || spans[0].Resource.Attributes[0].Key == "changed" {
		t.Error("changing the copy changed the original")
	}
}
