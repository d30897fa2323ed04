package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/clew-tracing/clew/internal/analysis"
)

// defaultServer is where `clew explain` and `clew trace` find a running
// server: the HTTP listener of `clew serve` with its defaults.
const defaultServer = "http://localhost:16686"

// clientTimeout bounds one request of the CLI to the server; explaining
// a trace looks up baselines, which can take a few seconds when cold.
const clientTimeout = 2 * time.Minute

// clientFlags are the flags every client subcommand takes.
type clientFlags struct {
	server string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", defaultServer, "base URL of a running clew serve (its --http-addr); env CLEW_SERVER")
}

// parseClientArgs parses flags placed before or after the one positional
// trace ID (`clew explain ID --json` and `clew explain --json ID` both
// work) and applies CLEW_<FLAG> environment variables to flags not given.
func parseClientArgs(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", errors.New("a trace ID is required")
	}
	id := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "CLEW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	return id, errors.Join(errs...)
}

// getJSON fetches server+path and decodes a 200 answer into out; any
// other answer becomes an error carrying the server's message.
func getJSON(ctx context.Context, server, path string, params url.Values, out any) error {
	u := strings.TrimRight(server, "/") + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("server %q: %w", server, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach clew at %s (is `clew serve` running? set --server): %w", server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", resp.Status, e.Error.Message)
		}
		return fmt.Errorf("%s from %s", resp.Status, u)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", u, err)
	}
	return nil
}

// explain runs `clew explain <trace-id>`: it asks a running server to
// explain the trace and prints the answer for a person, or the JSON.
func explain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clew explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: clew explain [flags] <trace-id>\n\nExplain a trace: services, critical path, bottleneck, error origin, abnormality, whom to page.\n\n")
		fs.PrintDefaults()
	}
	var c clientFlags
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON document instead of text")
	lookback := fs.Duration("lookback", 0, "baseline window (default: the server's, 24h)")
	noBaselines := fs.Bool("no-baselines", false, "skip the comparison with stored baselines (faster)")
	id, err := parseClientArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "clew explain: %v\n", err)
		fs.Usage()
		return 2
	}
	params := url.Values{}
	if *lookback > 0 {
		params.Set("lookback", lookback.String())
	}
	if *noBaselines {
		params.Set("baselines", "false")
	}
	path := "/api/clew/traces/" + url.PathEscape(id) + "/explain"
	if *asJSON {
		var raw json.RawMessage
		if err := getJSON(ctx, c.server, path, params, &raw); err != nil {
			fmt.Fprintf(stderr, "clew explain: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", raw)
		return 0
	}
	var e analysis.Explanation
	if err := getJSON(ctx, c.server, path, params, &e); err != nil {
		fmt.Fprintf(stderr, "clew explain: %v\n", err)
		return 1
	}
	printExplanation(stdout, &e)
	return 0
}

// printExplanation renders an explanation as text for a terminal. Every
// string from the trace is cleaned of control characters first: span
// data is attacker-controlled and must not drive the terminal.
func printExplanation(w io.Writer, e *analysis.Explanation) {
	d := analysis.FormatDuration
	fmt.Fprintf(w, "Trace %s: %s, %s, %d spans, %d services", e.TraceID,
		clean(opLabel(e.RootService, e.RootName)), d(e.DurationNs), e.SpanCount, len(e.Services))
	if e.ErrorCount > 0 {
		fmt.Fprintf(w, ", %d %s", e.ErrorCount, pluralize(e.ErrorCount, "error", "errors"))
	}
	fmt.Fprintf(w, "\n\n%s\n", clean(e.Summary))

	fmt.Fprintf(w, "\nServices, in the order the request reached them\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SERVICE\tSPANS\tERRORS\tSELF TIME\tOWNER\n")
	for _, s := range e.Services {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", clean(s.Name), s.SpanCount, s.ErrorCount, d(s.SelfTimeNs), orDash(clean(s.Owner)))
	}
	tw.Flush()

	if len(e.Calls) > 0 {
		fmt.Fprintf(w, "\nCalls between services\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range e.Calls {
			failed := ""
			if c.ErrorCount > 0 {
				failed = fmt.Sprintf("%d failed", c.ErrorCount)
			}
			fmt.Fprintf(tw, "  %s → %s\t%d×\t%s\t%s\n", clean(c.From), clean(c.To), c.Count, d(c.TotalNs), failed)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nCritical path, from the root (offsets from the start; time spent in the span's own work)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range e.CriticalPath {
		share := 0.0
		if e.DurationNs > 0 {
			share = 100 * float64(p.ContributionNs) / float64(e.DurationNs)
		}
		fmt.Fprintf(tw, "  %s\t→ %s\t%s\t%3.0f%%\t%s%s\n", offset(p.StartNs), offset(p.EndNs),
			d(p.ContributionNs), share, strings.Repeat("  ", min(p.Depth, 20)), clean(opLabel(p.Service, p.Name)))
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if b := e.Bottleneck; b != nil {
		caller := ""
		if b.CallerService != "" {
			caller = fmt.Sprintf(" (%s → %s)", clean(b.CallerService), clean(b.Service))
		}
		fmt.Fprintf(tw, "Bottleneck\t%s%s: %s on the critical path, %.0f%% of %s\n",
			clean(opLabel(b.Service, b.Name)), caller, d(b.ContributionNs), 100*b.Share, d(e.DurationNs))
	}
	if o := e.ErrorOrigin; o != nil {
		fmt.Fprintf(tw, "Error origin\t%s (span %s): %s", clean(opLabel(o.Service, o.Name)), o.SpanID, orDash(clean(o.Message)))
		if o.ExceptionType != "" {
			fmt.Fprintf(tw, " [%s]", clean(o.ExceptionType))
		}
		fmt.Fprintln(tw)
		if len(o.ErrorChain) > 0 {
			chain := make([]string, len(o.ErrorChain))
			for i, r := range o.ErrorChain {
				chain[i] = clean(opLabel(r.Service, r.Name))
			}
			fmt.Fprintf(tw, "\tpropagated up through %s\n", strings.Join(chain, " ← "))
		}
		if !o.ReachedRoot {
			fmt.Fprintf(tw, "\tthe request itself did not fail\n")
		}
		for _, x := range o.OtherOrigins {
			fmt.Fprintf(tw, "\talso failed on its own: %s: %s\n", clean(opLabel(x.Service, x.Name)), orDash(clean(x.Message)))
		}
	} else {
		fmt.Fprintf(tw, "Error origin\tnone: nothing failed that was not recovered\n")
	}
	for _, r := range e.RecoveredErrors {
		fmt.Fprintf(tw, "Recovered\t%s (span %s): %s, retried by span %s\n", clean(opLabel(r.Service, r.Name)), r.SpanID, orDash(clean(r.Message)), r.RetriedBy)
	}
	ab := e.Abnormal
	fmt.Fprintf(tw, "Abnormal\t%s: %s\n", ab.Verdict, clean(ab.Reason))
	for _, s := range ab.Spans {
		where := ""
		if s.Percentile >= 0 {
			where = fmt.Sprintf(", slower than %.0f%% of them", s.Percentile)
		}
		path := ""
		if s.OnCriticalPath {
			path = " (on the critical path)"
		}
		fmt.Fprintf(tw, "\t%s%s took %s: p50 %s, p99 %s over %d spans%s\n", clean(opLabel(s.Service, s.Name)), path,
			d(s.DurationNs), d(uint64(s.BaselineP50Ns)), d(uint64(s.BaselineP99Ns)), s.Samples, where)
	}
	if p := e.Page; p != nil {
		who := orDash(clean(p.Owner))
		if p.Contact != "" {
			who += " (" + clean(p.Contact) + ")"
		}
		fmt.Fprintf(tw, "Page\t%s for %s [%s]: %s\n", who, clean(p.Service), p.Kind, clean(p.Reason))
		if p.Runbook != "" {
			fmt.Fprintf(tw, "\trunbook %s\n", clean(p.Runbook))
		}
	}
	tw.Flush()
	if len(e.Warnings) > 0 {
		fmt.Fprintf(w, "\nWarnings\n")
		for _, x := range e.Warnings {
			fmt.Fprintf(w, "  - %s\n", clean(x))
		}
	}
}

// offset renders an offset from the trace's start: "+0", "+20 ms".
func offset(ns int64) string {
	switch {
	case ns == 0:
		return "+0"
	case ns < 0:
		return "-" + analysis.FormatDuration(uint64(-ns))
	}
	return "+" + analysis.FormatDuration(uint64(ns))
}

// clean replaces control characters (escape sequences, newlines, tabs
// that would break the columns) with U+FFFD.
func clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// opLabel names an operation the way the summary does: "bank authorize".
func opLabel(service, name string) string {
	switch {
	case service == "":
		return name
	case name == "" || name == service:
		return service
	}
	return service + " " + name
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
