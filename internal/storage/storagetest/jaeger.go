package storagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/model/otlp"
	"github.com/clew-tracing/clew/internal/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Environment variables read by the Jaeger fixtures test.
const (
	// EnvConformanceDir names the directory holding the Jaeger storage
	// fixtures (queries.json and traces/), or its parent.
	EnvConformanceDir = "CLEW_CONFORMANCE_DIR"
	// EnvRequireConformance, set to 1, turns a missing fixtures directory
	// from a skip into a failure, so that CI cannot pass without them.
	EnvRequireConformance = "CLEW_REQUIRE_CONFORMANCE"
)

// jaegerQuery is one entry of queries.json.
type jaegerQuery struct {
	Caption string
	Query   struct {
		ServiceName   string
		OperationName string
		Tags          map[string]json.RawMessage
		StartTimeMin  time.Time
		StartTimeMax  time.Time
		DurationMin   int64
		DurationMax   int64
		NumTraces     int
	}
	ExpectedFixtures []string
}

// jaegerFixtures is the loaded fixture set, already shifted in time.
type jaegerFixtures struct {
	dir     string
	files   []string                 // fixture names, sorted
	spans   map[string][]*model.Span // by fixture name
	traces  map[model.TraceID][]*model.Span
	queries []jaegerQuery
	shift   time.Duration
}

// findConformanceDir locates the Jaeger fixtures: $CLEW_CONFORMANCE_DIR (the
// jaeger-storage directory or its parent), else ../shared/conformance/
// jaeger-storage next to the module root found by walking up from the
// working directory to go.mod.
func findConformanceDir() (string, error) {
	if d := os.Getenv(EnvConformanceDir); d != "" {
		for _, c := range []string{d, filepath.Join(d, "jaeger-storage")} {
			if fileExists(filepath.Join(c, "queries.json")) {
				return c, nil
			}
		}
		return "", fmt.Errorf("$%s=%s holds no queries.json (nor jaeger-storage/queries.json)", EnvConformanceDir, d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if fileExists(filepath.Join(d, "go.mod")) {
			c := filepath.Join(d, "..", "shared", "conformance", "jaeger-storage")
			if !fileExists(filepath.Join(c, "queries.json")) {
				return "", fmt.Errorf("no Jaeger storage fixtures at %s (module root %s); set $%s", c, d, EnvConformanceDir)
			}
			return filepath.Clean(c), nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("no go.mod above %s; set $%s", wd, EnvConformanceDir)
		}
		d = up
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadJaegerFixtures reads every fixture and the queries and shifts all
// times so that the latest query window ends an hour before now.
func loadJaegerFixtures(dir string, now time.Time) (*jaegerFixtures, error) {
	fx := &jaegerFixtures{dir: dir, spans: map[string][]*model.Span{}, traces: map[model.TraceID][]*model.Span{}}
	raw, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &fx.queries); err != nil {
		return nil, fmt.Errorf("queries.json: %w", err)
	}
	if len(fx.queries) == 0 {
		return nil, errors.New("queries.json: no queries")
	}
	var latest time.Time
	for _, q := range fx.queries {
		if q.Query.StartTimeMax.After(latest) {
			latest = q.Query.StartTimeMax
		}
	}
	// A whole number of seconds keeps the fixtures' sub-second digits;
	// one second less keeps the latest time before the target.
	target := now.Add(-time.Hour)
	fx.shift = time.Duration(target.Unix()-latest.Unix()-1) * time.Second

	paths, err := filepath.Glob(filepath.Join(dir, "traces", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no traces/*.json in %s", dir)
	}
	var u ptrace.JSONUnmarshaler
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		td, err := u.UnmarshalTraces(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		spans := otlp.FromTraces(td, nil, nil)
		if len(spans) == 0 {
			return nil, fmt.Errorf("%s: no spans", p)
		}
		for _, s := range spans {
			shiftSpan(s, fx.shift)
			fx.traces[s.TraceID] = append(fx.traces[s.TraceID], s)
		}
		fx.files = append(fx.files, name)
		fx.spans[name] = spans
	}
	slices.Sort(fx.files)
	for _, q := range fx.queries {
		for _, f := range q.ExpectedFixtures {
			if fx.spans[f] == nil {
				return nil, fmt.Errorf("query %q expects fixture %q, which is not in traces/", q.Caption, f)
			}
		}
	}
	return fx, nil
}

func shiftSpan(s *model.Span, d time.Duration) {
	s.StartUnixNano = shiftTime(s.StartUnixNano, d)
	s.EndUnixNano = shiftTime(s.EndUnixNano, d)
	for i := range s.Events {
		s.Events[i].TimeUnixNano = shiftTime(s.Events[i].TimeUnixNano, d)
	}
}

func shiftTime(t uint64, d time.Duration) uint64 {
	if t == 0 {
		return 0
	}
	return uint64(int64(t) + int64(d))
}

// query translates a Jaeger search into a storage.Query: every condition
// on the same span, tags looked up in every scope and compared as strings.
func (fx *jaegerFixtures) query(jq *jaegerQuery) (*storage.Query, error) {
	q := &storage.Query{
		Range: storage.TimeRange{
			Start: unixNano(jq.Query.StartTimeMin.Add(fx.shift)),
			End:   unixNano(jq.Query.StartTimeMax.Add(fx.shift)),
		},
		Limit: jq.Query.NumTraces,
	}
	if jq.Query.ServiceName != "" {
		q.Conditions = append(q.Conditions, storage.Condition{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue(jq.Query.ServiceName)})
	}
	if jq.Query.OperationName != "" {
		q.Conditions = append(q.Conditions, storage.Condition{Field: storage.FieldName, Op: storage.OpEqual, Value: model.StringValue(jq.Query.OperationName)})
	}
	keys := make([]string, 0, len(jq.Query.Tags))
	for k := range jq.Query.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := tagString(jq.Query.Tags[k])
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", k, err)
		}
		q.Conditions = append(q.Conditions, storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeAny, Key: k, Op: storage.OpEqual, Value: model.StringValue(v)})
	}
	if jq.Query.DurationMin > 0 {
		q.Conditions = append(q.Conditions, storage.Condition{Field: storage.FieldDuration, Op: storage.OpGreaterEqual, Value: model.IntValue(jq.Query.DurationMin)})
	}
	if jq.Query.DurationMax > 0 {
		q.Conditions = append(q.Conditions, storage.Condition{Field: storage.FieldDuration, Op: storage.OpLessEqual, Value: model.IntValue(jq.Query.DurationMax)})
	}
	return q, q.Validate()
}

// tagString renders a JSON tag value the way Jaeger's tag filter (and
// model.Value.AsString) spells it: 123 → "123", 72.5 → "72.5", true → "true".
func tagString(raw json.RawMessage) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("unsupported tag value %s", raw)
}

func (s *suite) testJaegerFixtures(t *testing.T) {
	dir, err := findConformanceDir()
	if err != nil {
		if os.Getenv(EnvRequireConformance) == "1" {
			t.Fatalf("Jaeger storage fixtures not found and $%s=1: %v", EnvRequireConformance, err)
		}
		t.Skipf("skipping the Jaeger storage fixtures: %v (set $%s=1 to make this a failure)", err, EnvRequireConformance)
	}
	fx, err := loadJaegerFixtures(dir, s.opts.now())
	if err != nil {
		t.Fatalf("load Jaeger fixtures from %s: %v", dir, err)
	}
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	for i, name := range fx.files {
		// Write copies: the backend may keep what it is given, and the
		// originals are what its answers are compared with.
		spans := cloneSpans(fx.spans[name])
		if i%2 == 1 && len(spans) > 1 {
			// Every other file span by span, so that a trace also arrives
			// in several writes.
			for _, sp := range spans {
				h.write(ctx, []*model.Span{sp})
			}
			continue
		}
		h.write(ctx, spans)
	}
	if !h.isFlusher() {
		fx.check(t, h)
		return
	}
	t.Run("BeforeFlush", func(t *testing.T) { fx.check(t, h) })
	h.flush(ctx)
	t.Run("AfterFlush", func(t *testing.T) { fx.check(t, h) })
}

// check runs every query and compares the results with the expected
// fixtures, then fetches every expected trace.
func (fx *jaegerFixtures) check(t *testing.T, h *handle) {
	ctx := t.Context()
	passed := 0
	for i := range fx.queries {
		jq := &fx.queries[i]
		name := fmt.Sprintf("%02d %s", i+1, jq.Caption)
		ok := t.Run(name, func(t *testing.T) {
			q, err := fx.query(jq)
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			want := map[model.TraceID]bool{}
			for _, f := range jq.ExpectedFixtures {
				for _, sp := range fx.spans[f] {
					want[sp.TraceID] = true
				}
			}
			res, err := h.FindTraces(ctx, q)
			if err != nil {
				t.Fatalf("FindTraces(%s): %v", queryString(q), err)
			}
			got := map[model.TraceID]bool{}
			for _, r := range res {
				if got[r.TraceID] {
					t.Errorf("FindTraces returned trace %s twice", r.TraceID)
				}
				got[r.TraceID] = true
			}
			var missing, extra []string
			for id := range want {
				if !got[id] {
					missing = append(missing, id.String()+" ("+fx.fixtureOf(id)+")")
				}
			}
			for id := range got {
				if !want[id] {
					extra = append(extra, id.String()+" ("+fx.fixtureOf(id)+")")
				}
			}
			slices.Sort(missing)
			slices.Sort(extra)
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("FindTraces(%s)\nexpected fixtures %v\nmissing traces %v\nunexpected traces %v", queryString(q), jq.ExpectedFixtures, missing, extra)
			}
			for _, r := range res {
				if all := fx.traces[r.TraceID]; all != nil && r.SpanCount != len(all) {
					t.Errorf("summary of %s: SpanCount %d, want %d", r.TraceID, r.SpanCount, len(all))
				}
			}
			ids := make([]model.TraceID, 0, len(want))
			for id := range want {
				ids = append(ids, id)
			}
			slices.SortFunc(ids, func(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) })
			for _, id := range ids {
				wantSpans := fx.traces[id]
				for _, hint := range []storage.TimeRange{{}, spanRange(wantSpans)} {
					tr, err := h.Trace(ctx, id, hint)
					if err != nil {
						t.Errorf("Trace(%s, hint %v): %v", id, hint, err)
						continue
					}
					if d := DiffSpans(wantSpans, tr.Spans); d != "" {
						t.Errorf("Trace(%s, hint %v) (%s): %s", id, hint, fx.fixtureOf(id), d)
					}
				}
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("Jaeger fixtures: %d of %d queries pass", passed, len(fx.queries))
}

// fixtureOf names the fixture files that hold spans of the trace.
func (fx *jaegerFixtures) fixtureOf(id model.TraceID) string {
	var names []string
	for _, f := range fx.files {
		if slices.ContainsFunc(fx.spans[f], func(s *model.Span) bool { return s.TraceID == id }) {
			names = append(names, f)
		}
	}
	if len(names) == 0 {
		return "no fixture"
	}
	return strings.Join(names, ", ")
}
