package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/clew-tracing/clew/internal/analysis"
)

// Waterfall glyphs: a bar is drawn with critical where the span is on the
// critical path and other elsewhere; the mark column flags errors.
const (
	barCritical = '█'
	barOther    = '░'
	markOrigin  = "✗" // where the error started
	markError   = "!" // failed, explained by a failed child
	markRetried = "↻" // failed, and a retry recovered
	markAsync   = "~" // the parent did not wait for it
)

// Column widths of the waterfall.
const (
	serviceWidth = 16
	nameWidth    = 40
	maxIndent    = 12
)

// trace runs `clew trace <trace-id>`: it prints the trace as a terminal
// waterfall, one line per span in tree order.
func trace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clew trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: clew trace [flags] <trace-id>\n\nPrint a trace as a waterfall: service, span, bar, duration, critical path and error marks.\n\n")
		fs.PrintDefaults()
	}
	var c clientFlags
	c.register(fs)
	width := fs.Int("width", 60, "width of the bars in characters")
	limit := fs.Int("limit", 500, "print at most this many spans (0: all)")
	id, err := parseClientArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && (*width < 10 || *width > 1000 || *limit < 0) {
		err = fmt.Errorf("--width must be in [10, 1000] and --limit not negative")
	}
	if err != nil {
		fmt.Fprintf(stderr, "clew trace: %v\n", err)
		fs.Usage()
		return 2
	}
	var w analysis.Waterfall
	if err := getJSON(ctx, c.server, "/api/clew/traces/"+url.PathEscape(id)+"/waterfall", nil, &w); err != nil {
		fmt.Fprintf(stderr, "clew trace: %v\n", err)
		return 1
	}
	printWaterfall(stdout, &w, *width, *limit)
	return 0
}

// printWaterfall draws the rows of w on a common time axis from the
// earliest start to the latest end.
func printWaterfall(out io.Writer, w *analysis.Waterfall, width, limit int) {
	d := analysis.FormatDuration
	fmt.Fprintf(out, "Trace %s: %s, %d spans\n", w.TraceID, d(w.DurationNs), w.SpanCount)
	fmt.Fprintf(out, "%c critical path  %c elsewhere   %s error origin  %s failed  %s recovered by a retry  %s async\n\n",
		barCritical, barOther, markOrigin, markError, markRetried, markAsync)
	if len(w.Spans) == 0 {
		return
	}
	lo, hi := w.Spans[0].StartNs, w.Spans[0].StartNs
	for _, r := range w.Spans {
		lo = min(lo, r.StartNs)
		hi = max(hi, r.StartNs+int64(r.DurationNs))
	}
	span := max(hi-lo, 1)
	right := d(uint64(hi - lo))
	axis := "0" + strings.Repeat(" ", max(width-1-utf8.RuneCountInString(right), 1)) + right
	fmt.Fprintf(out, "%s  %s  |%s|  %9s\n", fit("SERVICE", serviceWidth), fit("SPAN", nameWidth), fit(axis, width), "DURATION")
	rows := w.Spans
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	for _, r := range rows {
		name := strings.Repeat("  ", min(r.Depth, maxIndent)) + clean(r.Name)
		bar := []rune(strings.Repeat(" ", width))
		from := int((r.StartNs - lo) * int64(width) / span)
		to := int((r.StartNs - lo + int64(r.DurationNs)) * int64(width) / span)
		from = min(max(from, 0), width-1)
		to = min(max(to, from+1), width)
		glyph := barOther
		if r.CriticalNs > 0 {
			glyph = barCritical
		}
		for i := from; i < to; i++ {
			bar[i] = glyph
		}
		var marks []string
		switch {
		case r.ErrorOrigin:
			marks = append(marks, markOrigin)
		case r.Recovered:
			marks = append(marks, markRetried)
		case r.Error:
			marks = append(marks, markError)
		}
		if r.Async {
			marks = append(marks, markAsync)
		}
		line := fmt.Sprintf("%s  %s  |%s|  %9s  %s", fit(clean(r.Service), serviceWidth), fit(name, nameWidth),
			string(bar), d(r.DurationNs), strings.Join(marks, ""))
		if r.ErrorOrigin && r.Message != "" {
			line += " " + fit(clean(r.Message), 60)
		}
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	if n := len(w.Spans) - len(rows); n > 0 {
		fmt.Fprintf(out, "… %d more spans (--limit 0 prints all)\n", n)
	}
	if len(w.Warnings) > 0 {
		fmt.Fprintln(out)
		for _, x := range w.Warnings {
			fmt.Fprintf(out, "warning: %s\n", clean(x))
		}
	}
}

// fit pads or cuts s to exactly n runes.
func fit(s string, n int) string {
	if c := utf8.RuneCountInString(s); c <= n {
		return s + strings.Repeat(" ", n-c)
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
