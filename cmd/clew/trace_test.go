package main

import (
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/analysis"
)

func TestTraceCommand(t *testing.T) {
	url := startAPI(t)
	code, out, errs := runCLI(t, "trace", cliTrace, "--server", url, "--width", "20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{
		"Trace " + cliTrace + ": 1.0 s, 4 spans",
		"█ critical path  ░ elsewhere   ✗ error origin  ! failed  ↻ recovered by a retry  ~ async",
		"",
		"SERVICE           SPAN                                      |0              1.0 s|   DURATION",
		"checkout          GET /checkout                             |████████████████████|      1.0 s  !",
		"payment             POST /charge                            |███████████████████ |     960 ms  !",
		"bank                  authorize                             |████████████████    |     800 ms  ✗ deadline exceeded",
		"checkout            render \uFFFD[31mred                         |                   █|      10 ms",
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
}

func TestPrintWaterfallLimit(t *testing.T) {
	w := &analysis.Waterfall{TraceID: "t", DurationNs: 100, SpanCount: 3, Warnings: []string{"clock skew: x"}, Spans: []analysis.WaterfallRow{
		{Service: "a", Name: "root", DurationNs: 100},
		{Service: "a", Name: "retry", Depth: 1, StartNs: 10, DurationNs: 20, Error: true, Recovered: true},
		{Service: "b", Name: "later", Depth: 1, StartNs: 50, DurationNs: 10, Async: true},
	}}
	var b strings.Builder
	printWaterfall(&b, w, 10, 2)
	out := b.String()
	for _, want := range []string{"retry", "↻", "… 1 more spans (--limit 0 prints all)", "warning: clock skew: x"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "later") {
		t.Errorf("limit ignored:\n%s", out)
	}
}
