package analysis

import (
	"fmt"
	"strings"
)

// summarize writes two or three sentences a person would write about the
// trace: how long it took and where the time went; where an error started
// (or that retries recovered); whom to page. Every fact in it is also a
// field of the explanation.
func summarize(e *Explanation, a *Analysis, bn *Node) string {
	var b strings.Builder
	root := a.Tree.Root
	rootFailed := a.Errors.Failed[root.Index]

	// 1. Duration and the bottleneck.
	fmt.Fprintf(&b, "%s took %s", opName(e.RootService, e.RootName), FormatDuration(e.DurationNs))
	if e.DurationNs > e.RootDurationNs {
		fmt.Fprintf(&b, " end to end (the root span %s, async work ran on)", FormatDuration(e.RootDurationNs))
	}
	if rootFailed {
		b.WriteString(" and failed")
	}
	if e.Abnormal.Verdict == verdictAbnormal {
		if rs := rootAbnormal(e); rs != nil {
			fmt.Fprintf(&b, ", above its usual p99 of %s", FormatDuration(uint64(rs.BaselineP99Ns)))
		} else {
			b.WriteString(", slower than usual")
		}
	}
	origin := a.Errors.Origin
	if bt := e.Bottleneck; bt != nil {
		if bn == root {
			fmt.Fprintf(&b, "; %s of it was the root's own work", percent(bt.Share))
		} else {
			fmt.Fprintf(&b, "; %s of it was %s", percent(bt.Share), opName(bt.Service, bt.Name))
			if bt.CallerService != "" {
				fmt.Fprintf(&b, " (%s → %s)", bt.CallerService, bt.Service)
			}
		}
		if bn == origin {
			b.WriteString(", which failed")
			if m := e.ErrorOrigin.Message; m != "" {
				fmt.Fprintf(&b, " (%s)", clip(m, 80))
			}
		}
	}
	b.WriteString(". ")

	// 2. Errors.
	switch eo := e.ErrorOrigin; {
	case eo != nil && origin != bn:
		fmt.Fprintf(&b, "The error started in %s", opName(eo.Service, eo.Name))
		if eo.Message != "" {
			fmt.Fprintf(&b, " (%s)", clip(eo.Message, 80))
		}
		b.WriteString(propagation(eo))
		b.WriteString(recoveredClause(a, "; "))
		b.WriteString(". ")
	case eo != nil:
		b.WriteString("The error started there")
		b.WriteString(propagation(eo))
		b.WriteString(recoveredClause(a, "; "))
		b.WriteString(". ")
	case len(a.Errors.Recovered) > 0:
		b.WriteString(strings.TrimPrefix(recoveredClause(a, ""), " "))
		b.WriteString("; the request did not fail because of it. ")
	}

	// 3. Whom to page.
	if p := e.Page; p != nil {
		switch p.Kind {
		case pageError, pageSlow:
			if p.Owner != "" {
				fmt.Fprintf(&b, "Page %s", p.Owner)
				if p.Contact != "" {
					fmt.Fprintf(&b, " (%s)", p.Contact)
				}
				b.WriteString(".")
			} else {
				fmt.Fprintf(&b, "Page the owner of %s (none on record).", p.Service)
			}
		default:
			if e.Abnormal.Verdict == verdictNormal {
				b.WriteString("Nothing failed and the latency is usual; no page.")
			} else {
				b.WriteString("Nothing failed, and there is too little history to call it slow; no page.")
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// rootAbnormal returns the root's entry among the abnormal spans, if any.
func rootAbnormal(e *Explanation) *AbnormalSpan {
	for i := range e.Abnormal.Spans {
		if e.Abnormal.Spans[i].SpanID == e.RootSpanID {
			return &e.Abnormal.Spans[i]
		}
	}
	return nil
}

func propagation(eo *ErrorOrigin) string {
	n := len(eo.ErrorChain)
	switch {
	case n == 0 && eo.ReachedRoot:
		return ""
	case n == 0:
		return " and went no further"
	case eo.ReachedRoot:
		return fmt.Sprintf(" and propagated up through %d %s to the root", n, plural(n, "span", "spans"))
	}
	return fmt.Sprintf(" and propagated up through %d %s, but the request itself did not fail", n, plural(n, "span", "spans"))
}

func recoveredClause(a *Analysis, sep string) string {
	r := a.Errors.Recovered
	if len(r) == 0 {
		return ""
	}
	first := r[0].Attempt.Span
	if len(r) == 1 {
		return fmt.Sprintf("%s1 failed attempt (%s) was recovered by a retry", sep, opName(first.Service(), first.Name))
	}
	return fmt.Sprintf("%s%d failed attempts (first %s) were recovered by retries", sep, len(r), opName(first.Service(), first.Name))
}

// opName names an operation the way people say it: "bank authorize".
func opName(service, name string) string {
	switch {
	case service == "":
		return name
	case name == "" || name == service:
		return service
	}
	return service + " " + name
}

func percent(share float64) string {
	p := 100 * share
	if p > 0 && p < 1 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// clip shortens attacker-controlled text for a sentence.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
