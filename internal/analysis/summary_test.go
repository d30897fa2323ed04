package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

func TestSummary(t *testing.T) {
	a, b, c := res("web", "team", "team-web"), res("cache"), res("db", "team", "team-db")
	for _, tc := range []struct {
		name string
		tr   *model.Trace
		bl   BaselineSource
		want string
	}{
		{
			name: "a handled error elsewhere than the bottleneck",
			tr: trace(
				span("1", "", a, "GET /", 0, 100),
				span("2", "1", b, "get", 5, 2, fail("miss")),
				span("3", "1", c, "query", 10, 80),
			),
			want: "web GET / took 100 ms; 80% of it was db query (web → db). " +
				"The error started in cache get (miss) and went no further. Page the owner of cache (none on record).",
		},
		{
			name: "abnormal on the critical path, not at the root",
			tr: trace(
				span("1", "", a, "GET /", 0, 100),
				span("3", "1", c, "query", 10, 80),
			),
			bl: &fakeBaselines{byOp: map[opKey]Baseline{
				{"web", "GET /"}: usual(90*time.Millisecond, 200*time.Millisecond, 50),
				{"db", "query"}:  usual(10*time.Millisecond, 20*time.Millisecond, 50),
			}},
			want: "web GET / took 100 ms, slower than usual; 80% of it was db query (web → db). Page team-db.",
		},
		{
			name: "the root's own work",
			tr:   trace(span("1", "", a, "GET /", 0, 100)),
			want: "web GET / took 100 ms; 100% of it was the root's own work. " +
				"Nothing failed, and there is too little history to call it slow; no page.",
		},
		{
			name: "several recovered attempts",
			tr: trace(
				span("1", "", a, "GET /", 0, 100),
				span("2", "1", c, "query", 5, 10, fail("deadlock")),
				span("3", "1", c, "query", 20, 10, fail("deadlock")),
				span("4", "1", c, "query", 35, 10),
			),
			want: "web GET / took 100 ms; 70% of it was the root's own work. " +
				"2 failed attempts (first db query) were recovered by retries; the request did not fail because of it. " +
				"Nothing failed, and there is too little history to call it slow; no page.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Explain(context.Background(), tc.tr, Options{Baselines: tc.bl, Now: func() time.Time { return base }})
			if err != nil {
				t.Fatal(err)
			}
			if e.Summary != tc.want {
				t.Errorf("summary:\n got %s\nwant %s", e.Summary, tc.want)
			}
		})
	}
}

func TestSummaryHelpers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{opName("bank", "authorize"), "bank authorize"},
		{opName("", "authorize"), "authorize"},
		{opName("bank", "bank"), "bank"},
		{percent(0.004), "<1%"},
		{percent(0.7), "70%"},
		{clip("a\n  b", 10), "a b"},
		{clip("abcdefghijk", 5), "abcd…"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
