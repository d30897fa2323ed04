package storagetest

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// sortedIDs returns the keys of m in byte order, for deterministic loops.
func sortedIDs[V any](m map[model.TraceID]V) []model.TraceID {
	ids := slices.Collect(maps.Keys(m))
	slices.SortFunc(ids, func(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// checkTraces asserts that every trace of want is stored with exactly its
// spans, looked up without a hint.
func checkTraces(t testing.TB, h *handle, want []*model.Span, what string) {
	t.Helper()
	traces := byTrace(want)
	for _, id := range sortedIDs(traces) {
		got := h.trace(t.Context(), id, storage.TimeRange{})
		if d := DiffSpans(traces[id], got); d != "" {
			t.Errorf("%s: Trace(%s): %s", what, id, d)
		}
	}
}

func (s *suite) testTraceByID(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	base := s.opts.baseTime()
	spans := GenerateTraces(1, 10, 6, base.Add(-10*time.Minute))
	h.write(ctx, cloneSpans(spans))
	traces := byTrace(spans)
	ids := sortedIDs(traces)

	t.Run("Found", func(t *testing.T) {
		for _, id := range ids {
			want := traces[id]
			exact := spanRange(want)
			wide := storage.TimeRange{Start: unixNano(base.Add(-2 * time.Hour)), End: unixNano(base.Add(time.Hour))}
			for _, hint := range []storage.TimeRange{{}, exact, wide} {
				if d := DiffSpans(want, h.trace(ctx, id, hint)); d != "" {
					t.Errorf("Trace(%s, hint %v): %s", id, hint, d)
				}
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		id := ids[0]
		hint := spanRange(traces[id])
		flipHigh, flipLow, flipAll := id, id, id
		flipHigh[0] ^= 0x80 // same low 64 bits as a stored trace
		flipLow[15] ^= 0x01 // same high 64 bits
		for i := range flipAll {
			flipAll[i] = ^flipAll[i]
		}
		for _, unknown := range []model.TraceID{flipHigh, flipLow, flipAll} {
			if traces[unknown] != nil {
				t.Fatalf("BUG: generated data holds trace %s", unknown)
			}
			for _, hn := range []storage.TimeRange{{}, hint} {
				tr, err := h.Trace(ctx, unknown, hn)
				checkNotFound(t, fmt.Sprintf("Trace(unknown %s, hint %v)", unknown, hn), tr, err)
			}
		}
	})
	t.Run("CallerOwnsResult", func(t *testing.T) {
		// "The returned spans are owned by the caller": changing them must
		// not change what the backend returns next time.
		id := ids[1]
		got := h.trace(ctx, id, storage.TimeRange{})
		for _, sp := range got {
			sp.Name = "changed by the caller"
			sp.StartUnixNano++
			if len(sp.Attributes) > 0 {
				sp.Attributes[0].Value = model.StringValue("changed by the caller")
			}
			for i := range sp.Events {
				sp.Events[i].Name = "changed by the caller"
			}
		}
		if d := DiffSpans(traces[id], h.trace(ctx, id, storage.TimeRange{})); d != "" {
			t.Errorf("after the caller changed the spans of a Trace result, Trace(%s): %s", id, d)
		}
	})
}

// generatedQueries are searches over GenerateTraces data; each must match
// something (nonEmpty) so that the comparison is not vacuous.
func generatedQueries(rng storage.TimeRange) []struct {
	q        *storage.Query
	nonEmpty bool
} {
	str := model.StringValue
	cond := func(f storage.Field, op storage.Op, v model.Value) storage.Condition {
		return storage.Condition{Field: f, Op: op, Value: v}
	}
	attr := func(sc storage.AttrScope, key string, op storage.Op, v model.Value) storage.Condition {
		return storage.Condition{Field: storage.FieldAttribute, Scope: sc, Key: key, Op: op, Value: v}
	}
	return []struct {
		q        *storage.Query
		nonEmpty bool
	}{
		{&storage.Query{Conditions: []storage.Condition{cond(storage.FieldService, storage.OpEqual, str("frontend"))}}, true},
		{&storage.Query{Conditions: []storage.Condition{cond(storage.FieldService, storage.OpEqual, str("frontend"))}, Limit: 5}, true},
		{&storage.Query{Conditions: []storage.Condition{cond(storage.FieldService, storage.OpEqual, str("frontend"))}, Range: rng, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeAny, "db.system", storage.OpEqual, str("postgresql"))}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeSpan, "http.status_code", storage.OpGreaterEqual, model.IntValue(300))}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{cond(storage.FieldStatus, storage.OpEqual, model.IntValue(int64(model.StatusError)))}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{cond(storage.FieldKind, storage.OpEqual, model.IntValue(int64(model.KindConsumer)))}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{
			attr(storage.ScopeSpan, "rpc.service", storage.OpRegex, str(`oteldemo\.(Cart|Currency)Service`)),
			cond(storage.FieldDuration, storage.OpGreater, model.IntValue(int64(time.Millisecond))),
			cond(storage.FieldKind, storage.OpEqual, model.IntValue(int64(model.KindServer))),
		}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{
			attr(storage.ScopeResource, "telemetry.sdk.language", storage.OpEqual, str("dotnet")),
			attr(storage.ScopeSpan, "db.system", storage.OpExists, model.Value{}),
		}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeEvent, "exception.type", storage.OpExists, model.Value{})}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeLink, "link.reason", storage.OpEqual, str("retry"))}, Limit: 1000}, true},
		{&storage.Query{Conditions: []storage.Condition{
			cond(storage.FieldService, storage.OpEqual, str("checkout")),
			attr(storage.ScopeSpan, "http.method", storage.OpEqual, str("GET")), // only frontend spans have it
		}, Limit: 1000}, false},
	}
}

// matchAcrossSpans reports whether some trace satisfies every condition
// of q, each on some span: a backend that evaluated conditions per trace
// instead of per span would return it.
func matchAcrossSpans(spans []*model.Span, q *storage.Query) bool {
	for _, tr := range byTrace(spans) {
		all := true
		for _, c := range q.Conditions {
			m, err := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{c}})
			if err != nil || !slices.ContainsFunc(tr, m.Match) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// expectedSummaries evaluates q over spans with storage.Matcher, the Go
// reference of the query semantics.
func expectedSummaries(t testing.TB, spans []*model.Span, q *storage.Query) []storage.TraceSummary {
	t.Helper()
	m, err := storage.NewMatcher(q)
	if err != nil {
		t.Fatalf("BUG: %s: %v", queryString(q), err)
	}
	traces := byTrace(spans)
	var out []storage.TraceSummary
	for _, id := range sortedIDs(traces) {
		if slices.ContainsFunc(traces[id], m.Match) {
			out = append(out, storage.Summarize(&model.Trace{ID: id, Spans: traces[id]}))
		}
	}
	slices.SortStableFunc(out, func(a, b storage.TraceSummary) int { return cmp.Compare(b.StartUnixNano, a.StartUnixNano) })
	if len(out) > q.EffectiveLimit() {
		out = out[:q.EffectiveLimit()]
	}
	return out
}

func (s *suite) testFindTracesGenerated(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	base := s.opts.baseTime()
	n := 40
	if s.opts.SkipSlow {
		n = 25
	}
	start := base.Add(-30 * time.Minute)
	spans := GenerateTraces(2, n, 8, start)
	// Batches that cut across traces.
	for c := range slices.Chunk(cloneSpans(spans), 13) {
		h.write(ctx, c)
	}
	// The middle of the data, by trace start.
	mid := storage.TimeRange{Start: unixNano(start.Add(time.Duration(n/4) * TraceInterval)), End: unixNano(start.Add(time.Duration(3*n/4) * TraceInterval))}
	check := func(t *testing.T) {
		for _, gq := range generatedQueries(mid) {
			want := expectedSummaries(t, spans, gq.q)
			if gq.nonEmpty && len(want) == 0 {
				t.Fatalf("BUG: generated data has no match for %s", queryString(gq.q))
			}
			if !gq.nonEmpty && !matchAcrossSpans(spans, gq.q) {
				t.Fatalf("BUG: no generated trace matches %s even with the conditions on different spans", queryString(gq.q))
			}
			got := h.find(ctx, gq.q)
			if !reflect.DeepEqual(normSummaries(got), normSummaries(want)) {
				t.Errorf("FindTraces(%s):\n got %s\nwant %s", queryString(gq.q), summariesString(got), summariesString(want))
			}
			checkFullTraces(t, h, spans, gq.q, want)
		}
	}
	if !h.isFlusher() {
		check(t)
		return
	}
	t.Run("BeforeFlush", check)
	h.flush(ctx)
	t.Run("AfterFlush", check)
}

// checkFullTraces checks FindTracesFull, when the backend implements
// storage.FullTraceFinder: the same summaries as FindTraces, each with its
// whole trace.
func checkFullTraces(t *testing.T, h *handle, spans []*model.Span, q *storage.Query, want []storage.TraceSummary) {
	t.Helper()
	f, ok := h.Backend.(storage.FullTraceFinder)
	if !ok {
		return
	}
	traces, sums, err := f.FindTracesFull(t.Context(), q)
	if err != nil {
		t.Fatalf("FindTracesFull(%s): %v", queryString(q), err)
	}
	if !reflect.DeepEqual(normSummaries(sums), normSummaries(want)) || len(traces) != len(sums) {
		t.Fatalf("FindTracesFull(%s): %d traces,\n got %s\nwant %s", queryString(q), len(traces), summariesString(sums), summariesString(want))
	}
	all := byTrace(spans)
	for i, tr := range traces {
		if tr == nil || tr.ID != sums[i].TraceID {
			t.Fatalf("FindTracesFull(%s): trace %d does not match its summary %s", queryString(q), i, sums[i].TraceID)
		}
		if d := DiffSpans(all[tr.ID], tr.Spans); d != "" {
			t.Errorf("FindTracesFull(%s): trace %s: %s", queryString(q), tr.ID, d)
		}
	}
}

// normSummaries makes empty and nil service lists equal.
func normSummaries(s []storage.TraceSummary) []storage.TraceSummary {
	out := make([]storage.TraceSummary, len(s))
	for i, x := range s {
		if len(x.Services) == 0 {
			x.Services = nil
		}
		out[i] = x
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func summariesString(s []storage.TraceSummary) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d traces", len(s))
	for _, x := range s {
		fmt.Fprintf(&b, "\n    %s start=%d end=%d spans=%d errors=%d root=%v %s:%s services=%v",
			x.TraceID, x.StartUnixNano, x.EndUnixNano, x.SpanCount, x.ErrorCount, x.HasRoot, x.RootService, x.RootName, x.Services)
	}
	return b.String()
}

func (s *suite) testCatalogLimit(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	spans := GenerateTraces(3, 20, 8, s.opts.baseTime().Add(-10*time.Minute))
	h.write(ctx, cloneSpans(spans))

	all, err := h.AttributeNames(ctx, storage.AttributeQuery{Limit: storage.MaxLimit})
	if err != nil {
		t.Fatalf("AttributeNames: %v", err)
	}
	if len(all) < 40 {
		t.Fatalf("AttributeNames returned %d names; the generated data has more than 40", len(all))
	}
	for _, limit := range []int{1, 3, 10} {
		got, err := h.AttributeNames(ctx, storage.AttributeQuery{Limit: limit})
		if err != nil {
			t.Fatalf("AttributeNames(limit %d): %v", limit, err)
		}
		if len(got) == 0 || len(got) > limit {
			t.Errorf("AttributeNames(limit %d) returned %d names", limit, len(got))
		}
		for _, n := range got {
			if !slices.Contains(all, n) {
				t.Errorf("AttributeNames(limit %d) returned %v, which the unlimited call did not", limit, n)
			}
		}
	}

	q := storage.AttributeQuery{Scope: storage.ScopeSpan, Name: "http.status_code", Limit: storage.MaxLimit}
	allVals, err := h.AttributeValues(ctx, q)
	if err != nil {
		t.Fatalf("AttributeValues: %v", err)
	}
	if len(allVals) < 3 {
		t.Fatalf("AttributeValues(http.status_code) returned %d values; the generated data has more", len(allVals))
	}
	seen := map[string]bool{}
	for _, v := range allVals {
		if seen[formatValue(v)] {
			t.Errorf("AttributeValues returned %s twice", formatValue(v))
		}
		seen[formatValue(v)] = true
		if v.Type != model.TypeInt {
			t.Errorf("AttributeValues(http.status_code) returned %s; the generated values are ints", formatValue(v))
		}
	}
	q.Limit = 2
	got, err := h.AttributeValues(ctx, q)
	if err != nil {
		t.Fatalf("AttributeValues(limit 2): %v", err)
	}
	if len(got) == 0 || len(got) > 2 {
		t.Errorf("AttributeValues(limit 2) returned %d values", len(got))
	}
	for _, v := range got {
		if !seen[formatValue(v)] {
			t.Errorf("AttributeValues(limit 2) returned %s, which the unlimited call did not", formatValue(v))
		}
	}
}
