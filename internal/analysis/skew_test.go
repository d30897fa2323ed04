package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

func TestSkewOf(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cs, ce, ps, pe float64 // ms
		async          bool
		want           float64 // ms
	}{
		{"fits: no change", 10, 20, 0, 100, false, 0},
		{"starts before parent: centred", -50, -10, 0, 100, false, 80}, // latency (100-40)/2=30 → start 30
		{"ends after parent: centred", 90, 130, 0, 100, false, -60},
		{"longer than parent: only not before it", -10, 200, 0, 100, false, 10},
		{"longer than parent and starts inside: unchanged", 10, 200, 0, 100, false, 0},
		{"async before parent: moved to its start", -30, 10, 0, 100, true, 30},
		{"async after parent's end: unchanged", 150, 160, 0, 100, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := skewOf(ms(tc.cs), ms(tc.ce), ms(tc.ps), ms(tc.pe), tc.async)
			if want := int64(tc.want * 1e6); got != want {
				t.Errorf("skew = %v, want %v", time.Duration(got), time.Duration(want))
			}
		})
	}
}

// skewedClock: payment's host clock runs 200 ms behind checkout's.
func skewedClock() *model.Trace {
	co, pay, bank := res("checkout", "host.name", "h1"), res("payment", "host.name", "h2"), res("bank", "host.name", "h3")
	return trace(
		span("1", "", co, "GET /checkout", 0, 1000, kind(model.KindServer)),
		span("2", "1", co, "charge", 10, 950, kind(model.KindClient)),
		span("3", "2", pay, "POST /charge", -190, 930, kind(model.KindServer)), // really 20..950
		span("4", "3", pay, "authorize", -180, 900, kind(model.KindClient)),    // same clock: inherits
		span("5", "4", bank, "authorize", 40, 700, kind(model.KindServer)),     // own clock, fits after correction
	)
}

func TestAdjustSkew(t *testing.T) {
	tr := skewedClock()
	orig := tr.Spans[2].StartUnixNano
	tree := BuildTree(tr.Spans)
	for _, tc := range []struct {
		name       string
		skew       float64
		start, end float64
	}{
		{"GET /checkout", 0, 0, 1000},
		{"charge", 0, 10, 960},
		{"POST /charge", 210, 20, 950},
		{"authorize", 210, 30, 930}, // the first "authorize" in tree order is payment's
	} {
		nd := byName(tree, tc.name)
		if nd.Skew != int64(tc.skew*1e6) || nd.Start != ms(tc.start) || nd.End != ms(tc.end) {
			t.Errorf("%s: skew %s [%s, %s], want %vms [%v, %v]", tc.name, time.Duration(nd.Skew),
				fmtNs(nd.Start-ms(0)), fmtNs(nd.End-ms(0)), tc.skew, tc.start, tc.end)
		}
	}
	bank := tree.Nodes[len(tree.Nodes)-1]
	if bank.Span.Service() != "bank" || bank.Skew != 0 {
		t.Errorf("bank (own clock, fits its corrected parent): skew %v", time.Duration(bank.Skew))
	}
	if tr.Spans[2].StartUnixNano != orig {
		t.Error("the stored span was modified")
	}
	if len(tree.Warnings) != 1 || !strings.Contains(tree.Warnings[0], "2 spans of payment") || !strings.Contains(tree.Warnings[0], "+210 ms") {
		t.Errorf("warnings = %q", tree.Warnings)
	}
}

func TestClockOf(t *testing.T) {
	for _, tc := range []struct {
		r    *model.Resource
		want string
	}{
		{res("a", "host.name", "h1", "service.instance.id", "i1"), "host.name=h1"},
		{res("a", "service.instance.id", "i1"), "service.instance.id=i1"},
		{res("a"), "service=a"},
		{nil, ""},
	} {
		if got := clockOf(tc.r); got != tc.want {
			t.Errorf("clockOf(%v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "1.0 s"},
		{1500 * time.Millisecond, "1.5 s"},
		{950 * time.Millisecond, "950 ms"},
		{12500 * time.Microsecond, "12 ms"},
		{5 * time.Millisecond, "5 ms"},
		{5500 * time.Microsecond, "5.5 ms"},
		{800 * time.Microsecond, "800 µs"},
		{120, "120 ns"},
		{90 * time.Second, "1.5 min"},
		{24 * time.Hour, "24 h"},
	} {
		if got := FormatDuration(uint64(tc.d)); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
