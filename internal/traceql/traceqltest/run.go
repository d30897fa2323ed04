package traceqltest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/engine"
	"github.com/clew-tracing/clew/internal/traceql/eval"
)

//go:embed testdata/*.test
var scripts embed.FS

// Factory opens a storage backend on an empty directory, failing t if it
// cannot. The suite closes it.
type Factory func(t testing.TB, dir string) storage.Backend

// Options adjusts the suite.
type Options struct {
	// Now is the suite's clock (time.Now when nil). Scripts place their
	// spans about an hour before it, so that backends with a retention
	// period keep them.
	Now func() time.Time
	// Engine configures the engine under test.
	Engine engine.Options
}

func (o Options) base() time.Time {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return now().Add(-time.Hour).Truncate(time.Second)
}

// Run runs every evaluation script against TraceQL engines reading from
// backends that f opens: one subtest per script, on a fresh backend. On a
// backend that implements storage.Flusher each script runs twice, as
// written and with a Flush after every load. The expected outputs are the
// reference evaluator's (see TestReference), so a backend passes when
// pushing conditions down to it loses nothing.
func Run(t *testing.T, f Factory, opts Options) {
	t.Helper()
	for _, name := range scriptNames(t) {
		sc := readScript(t, name)
		t.Run(strings.TrimSuffix(name, ".test"), func(t *testing.T) {
			for _, flushAll := range []bool{false, true} {
				be := f(t, t.TempDir())
				_, canFlush := be.(storage.Flusher)
				if flushAll && !canFlush {
					be.Close()
					break
				}
				r := newEngineRunner(t, be, opts, flushAll)
				outs := runScript(t, sc, r, opts.base())
				be.Close()
				for i, b := range sc.Blocks {
					if outs[i] != nil && !slices.Equal(outs[i], b.Output) {
						t.Errorf("%s:%d (flush=%t): %s %s\n got:\n\t%s\nwant:\n\t%s", name, b.Line, flushAll, b.Cmd,
							strings.Join(b.Input, " "), strings.Join(outs[i], "\n\t"), strings.Join(b.Output, "\n\t"))
					}
				}
			}
		})
	}
}

func scriptNames(t testing.TB) []string {
	entries, err := fs.ReadDir(scripts, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readScript(t testing.TB, name string) *storagetest.Script {
	b, err := scripts.ReadFile(path.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := storagetest.ParseScript(name, string(b))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runner executes the commands of a script.
type runner interface {
	load(spans []*model.Span) error
	search(src string, r storage.TimeRange, limit int) (*engine.SearchResult, error)
	metrics(req engine.MetricsRequest) (*engine.MetricsResult, error)
}

// runScript runs the blocks of sc and returns each block's output (nil
// for commands without output).
func runScript(t testing.TB, sc *storagetest.Script, r runner, base time.Time) [][]string {
	outs := make([][]string, len(sc.Blocks))
	ld := &loader{base: base, resources: map[string]*model.Resource{}, scopes: map[string]*model.Scope{}}
	for i, b := range sc.Blocks {
		where := fmt.Sprintf("%s:%d", sc.Name, b.Line)
		fields := strings.Fields(b.Cmd)
		args, err := parseArgs(fields[1:], base)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		src := strings.Join(b.Input, " ")
		switch fields[0] {
		case "load":
			var spans []*model.Span
			for _, l := range b.Input {
				s, err := ld.span(l)
				if err != nil {
					t.Fatalf("%s: %s: %v", where, l, err)
				}
				spans = append(spans, s)
			}
			if err := r.load(spans); err != nil {
				t.Fatalf("%s: load: %v", where, err)
			}
		case "search":
			res, err := r.search(src, args.r, args.limit)
			outs[i] = formatSearch(res, err)
		case "metrics":
			if args.step == 0 {
				args.step = (args.r.End - args.r.Start) / 10
			}
			res, err := r.metrics(engine.MetricsRequest{Query: src, Start: args.r.Start, End: args.r.End, Step: args.step})
			outs[i] = formatMetrics(res, err, base)
		default:
			t.Fatalf("%s: unknown command %q", where, fields[0])
		}
	}
	return outs
}

type args struct {
	r     storage.TimeRange
	limit int
	step  uint64
}

// parseArgs parses range=A..B (offsets, either side may be empty),
// limit=N and step=D.
func parseArgs(toks []string, base time.Time) (args, error) {
	var a args
	for _, tok := range toks {
		k, v, _ := strings.Cut(tok, "=")
		var err error
		switch k {
		case "range":
			lo, hi, ok := strings.Cut(v, "..")
			if !ok {
				return a, fmt.Errorf("bad range %q", v)
			}
			for _, side := range []struct {
				s   string
				dst *uint64
			}{{lo, &a.r.Start}, {hi, &a.r.End}} {
				if side.s == "" {
					continue
				}
				d, err := time.ParseDuration(side.s)
				if err != nil {
					return a, err
				}
				*side.dst = uint64(base.Add(d).UnixNano())
			}
		case "limit":
			a.limit, err = strconv.Atoi(v)
		case "step":
			var d time.Duration
			d, err = time.ParseDuration(v)
			a.step = uint64(d)
		default:
			return a, fmt.Errorf("unknown argument %q", tok)
		}
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

// shortID prints an ID without its leading zeros, as scripts write it.
func shortID(b []byte) string {
	s := strings.TrimLeft(fmt.Sprintf("%x", b), "0")
	if s == "" {
		return "0"
	}
	return s
}

// formatSearch renders a search result: per trace, newest first, one line
// per spanset with its span IDs, the values of select() fields per span
// and the spanset's attributes.
func formatSearch(res *engine.SearchResult, err error) []string {
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var selected []traceql.FieldExpr
	traceql.Inspect(res.Query, func(n traceql.Node) bool {
		if s, ok := n.(*traceql.Select); ok {
			selected = append(selected, s.Exprs...)
		}
		return true
	})
	var out []string
	for _, tr := range res.Traces {
		for _, ss := range tr.Spansets {
			ids := make([]string, len(ss.Spans))
			for i, s := range ss.Spans {
				ids[i] = shortID(s.SpanID[:])
				if len(selected) > 0 {
					vals := make([]string, len(selected))
					for j, f := range selected {
						vals[j] = f.String() + "=" + res.Evaluator.Value(tr.Trace, f, s).String()
					}
					ids[i] += "{" + strings.Join(vals, ";") + "}"
				}
			}
			line := shortID(tr.Trace.ID[:]) + " " + strings.Join(ids, ",")
			for _, a := range ss.Attributes {
				line += " " + a.Name + "=" + a.Value.String()
			}
			out = append(out, line)
		}
	}
	if res.Partial {
		out = append(out, "partial")
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// formatMetrics renders series, one line each: the labels, then
// offset=value for each step with a value.
func formatMetrics(res *engine.MetricsResult, err error, base time.Time) []string {
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for _, s := range res.Series {
		line := s.PromLabels()
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			at := time.Duration(res.Grid.Start+uint64(i)*res.Grid.Step) - time.Duration(base.UnixNano())
			sign := "+"
			if at < 0 {
				sign = ""
			}
			line += fmt.Sprintf(" %s%s=%s", sign, at, strconv.FormatFloat(v, 'g', 6, 64))
		}
		out = append(out, line)
	}
	if res.Partial {
		out = append(out, "partial")
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// engineRunner runs scripts through the engine over a backend.
type engineRunner struct {
	t        testing.TB
	be       storage.Backend
	eng      *engine.Engine
	flushAll bool
}

func newEngineRunner(t testing.TB, be storage.Backend, opts Options, flushAll bool) *engineRunner {
	q, err := query.New(be, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(q, opts.Engine)
	if err != nil {
		t.Fatal(err)
	}
	return &engineRunner{t: t, be: be, eng: eng, flushAll: flushAll}
}

func (r *engineRunner) load(spans []*model.Span) error {
	ctx := context.Background()
	if err := r.be.Write(ctx, spans); err != nil {
		return err
	}
	if fl, ok := r.be.(storage.Flusher); ok && r.flushAll {
		return fl.Flush(ctx)
	}
	return nil
}

func (r *engineRunner) search(src string, tr storage.TimeRange, limit int) (*engine.SearchResult, error) {
	return r.eng.Search(context.Background(), engine.SearchRequest{Query: src, Range: tr, Limit: limit})
}

func (r *engineRunner) metrics(req engine.MetricsRequest) (*engine.MetricsResult, error) {
	return r.eng.QueryRange(context.Background(), req)
}

// Reference evaluates the queries of the scripts directly on the loaded
// traces, with no storage and no planner: every trace is evaluated. Its
// answers are the scripts' expected outputs.
type reference struct {
	spans []*model.Span
}

func (r *reference) load(spans []*model.Span) error {
	r.spans = append(r.spans, spans...)
	return nil
}

func (r *reference) traces() []*model.Trace {
	by := map[model.TraceID]*model.Trace{}
	var out []*model.Trace
	for _, s := range r.spans {
		t := by[s.TraceID]
		if t == nil {
			t = &model.Trace{ID: s.TraceID}
			by[s.TraceID] = t
			out = append(out, t)
		}
		t.Spans = append(t.Spans, s)
	}
	return out
}

func (r *reference) search(src string, tr storage.TimeRange, limit int) (*engine.SearchResult, error) {
	q, ev, err := engine.Prepare(src, false)
	if err != nil {
		return nil, err
	}
	res := &engine.SearchResult{Query: q, Evaluator: ev}
	for _, t := range r.traces() {
		et := eval.NewTrace(t)
		if sets := ev.Spansets(et, tr); len(sets) > 0 {
			res.Traces = append(res.Traces, engine.TraceResult{Trace: et, Summary: storage.Summarize(t), Spansets: sets})
		}
	}
	slices.SortStableFunc(res.Traces, func(a, b engine.TraceResult) int {
		if a.Summary.StartUnixNano != b.Summary.StartUnixNano {
			if a.Summary.StartUnixNano > b.Summary.StartUnixNano {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Summary.TraceID[:], b.Summary.TraceID[:])
	})
	if limit == 0 {
		limit = engine.DefaultLimit
	}
	if len(res.Traces) > limit {
		res.Traces = res.Traces[:limit]
	}
	return res, nil
}

func (r *reference) metrics(req engine.MetricsRequest) (*engine.MetricsResult, error) {
	q, ev, err := engine.Prepare(req.Query, true)
	if err != nil {
		return nil, err
	}
	grid := eval.Grid{Start: req.Start, End: req.End, Step: req.Step}
	m, err := ev.NewMetrics(grid)
	if err != nil {
		return nil, query.BadRequest(err)
	}
	for _, t := range r.traces() {
		et := eval.NewTrace(t)
		if sets := ev.Spansets(et, storage.TimeRange{Start: req.Start, End: req.End - 1}); len(sets) > 0 {
			m.Observe(et, eval.MatchedSpans(sets))
		}
	}
	return &engine.MetricsResult{Query: q, Grid: grid, Series: m.Series()}, nil
}

// runReference runs the scripts with the reference evaluator and returns
// the rendered scripts with their outputs replaced, keyed by file name.
// With check set it reports outputs that differ from the scripts'.
func runReference(t *testing.T, base time.Time, check bool) map[string]string {
	out := map[string]string{}
	for _, name := range scriptNames(t) {
		sc := readScript(t, name)
		outs := runScript(t, sc, &reference{}, base)
		for i, b := range sc.Blocks {
			if check && outs[i] != nil && !slices.Equal(outs[i], b.Output) {
				t.Errorf("%s:%d: %s %s\n got:\n\t%s\nwant:\n\t%s", name, b.Line, b.Cmd, strings.Join(b.Input, " "),
					strings.Join(outs[i], "\n\t"), strings.Join(b.Output, "\n\t"))
			}
		}
		out[name] = sc.Render(outs)
	}
	return out
}
