package storagetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func (s *suite) testSpansMinutesApart(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	base := s.opts.baseTime()
	at := func(d time.Duration) uint64 { return unixNano(base.Add(d)) }
	res := func(svc string) *model.Resource {
		return &model.Resource{ServiceName: svc, Attributes: []model.KeyValue{{Key: "service.name", Value: model.StringValue(svc)}}}
	}
	scope := &model.Scope{Name: "batch"}
	mk := func(trace byte, span, parent byte, svc, name string, start, dur time.Duration) *model.Span {
		sp := &model.Span{
			TraceID:       model.TraceID{0xa1, 15: trace},
			SpanID:        model.SpanID{7: span},
			Name:          name,
			Kind:          model.KindInternal,
			StartUnixNano: at(start),
			EndUnixNano:   at(start + dur),
			Resource:      res(svc),
			Scope:         scope,
		}
		if parent != 0 {
			sp.ParentSpanID = model.SpanID{7: parent}
		}
		return sp
	}
	// Trace 1 arrives root first, trace 2 leaf first; their spans start
	// five minutes apart and the last ends twelve minutes after the first
	// starts.
	var traces [2][]*model.Span
	for i := range traces {
		tid := byte(i + 1)
		root := mk(tid, 1, 0, "gateway", "batch", -30*time.Minute, 12*time.Minute)
		root.Kind = model.KindServer
		child := mk(tid, 2, 1, "worker", "step-1", -25*time.Minute, time.Minute)
		child.StatusCode, child.StatusMessage = model.StatusError, "step failed"
		leaf := mk(tid, 3, 2, "db", "step-2", -20*time.Minute, 2*time.Minute)
		leaf.Kind = model.KindClient
		leaf.Attributes = []model.KeyValue{{Key: "late", Value: model.BoolValue(true)}}
		traces[i] = []*model.Span{root, child, leaf}
	}
	order := [2][]int{{0, 1, 2}, {2, 1, 0}}
	for k := range 3 {
		for i := range traces {
			h.write(ctx, cloneSpans([]*model.Span{traces[i][order[i][k]]}))
		}
		h.flush(ctx)
	}
	check := func(t *testing.T) {
		for i, spans := range traces {
			id := spans[0].TraceID
			for _, hint := range []storage.TimeRange{{}, spanRange(spans)} {
				if d := DiffSpans(spans, h.trace(ctx, id, hint)); d != "" {
					t.Errorf("trace %d: Trace(%s, hint %v): %s", i+1, id, hint, d)
				}
			}
			want := storage.TraceSummary{
				TraceID: id, RootService: "gateway", RootName: "batch", HasRoot: true,
				StartUnixNano: at(-30 * time.Minute), EndUnixNano: at(-18 * time.Minute),
				SpanCount: 3, ErrorCount: 1,
				Services: []storage.ServiceStat{{Name: "gateway", SpanCount: 1}, {Name: "worker", SpanCount: 1, ErrorCount: 1}, {Name: "db", SpanCount: 1}},
			}
			// The summary covers the whole trace even when the range
			// holds only one of its spans.
			for _, q := range []*storage.Query{
				{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "late", Op: storage.OpEqual, Value: model.BoolValue(true)}},
					Range: storage.TimeRange{Start: at(-21 * time.Minute), End: at(-19 * time.Minute)}},
				{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("gateway")}},
					Range: storage.TimeRange{Start: at(-31 * time.Minute), End: at(-29 * time.Minute)}},
				{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}}},
			} {
				var got *storage.TraceSummary
				for _, r := range h.find(ctx, q) {
					if r.TraceID == id {
						got = &r
					}
				}
				if got == nil {
					t.Errorf("trace %d: FindTraces(%s) did not return it", i+1, queryString(q))
					continue
				}
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("trace %d: FindTraces(%s) summary\n got %s\nwant %s", i+1, queryString(q),
						summariesString([]storage.TraceSummary{*got}), summariesString([]storage.TraceSummary{want}))
				}
			}
		}
	}
	t.Run("AfterWrites", check)
	if h.flush(ctx) {
		t.Run("AfterFlush", check)
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	base := s.opts.baseTime()
	writers, perWriter, readers := 4, 60, 3
	if s.opts.SkipSlow {
		writers, perWriter, readers = 3, 20, 2
	}
	data := make([][]*model.Span, writers)
	var all []*model.Span
	for w := range data {
		// Writers interleave in time.
		data[w] = GenerateTraces(int64(100+w), perWriter, 5, base.Add(-20*time.Minute+time.Duration(w)*TraceInterval/time.Duration(writers)))
		all = append(all, data[w]...)
	}
	ids := sortedIDs(byTrace(all))
	if len(ids) != writers*perWriter {
		t.Fatalf("BUG: generated %d distinct traces, want %d", len(ids), writers*perWriter)
	}

	var done atomic.Bool
	var writersWG, othersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			spans := cloneSpans(data[w])
			for len(spans) > 0 {
				n := min(len(spans), 1+rng.IntN(12))
				if err := h.Write(ctx, spans[:n]); err != nil {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
				spans = spans[n:]
			}
		})
	}
	for r := range readers {
		othersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			q := &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: 50}
			for !done.Load() {
				id := ids[rng.IntN(len(ids))]
				tr, err := h.Trace(ctx, id, storage.TimeRange{})
				switch {
				case errors.Is(err, storage.ErrNotFound):
				case err != nil:
					t.Errorf("reader %d: Trace(%s): %v", r, id, err)
					return
				default:
					seen := map[model.SpanID]bool{}
					for _, sp := range tr.Spans {
						if sp.TraceID != id || seen[sp.SpanID] {
							t.Errorf("reader %d: Trace(%s) returned span %s/%s twice or from another trace", r, id, sp.TraceID, sp.SpanID)
							return
						}
						seen[sp.SpanID] = true
					}
				}
				res, err := h.FindTraces(ctx, q)
				if err != nil {
					t.Errorf("reader %d: FindTraces: %v", r, err)
					return
				}
				seen := map[model.TraceID]bool{}
				for _, sum := range res {
					if seen[sum.TraceID] {
						t.Errorf("reader %d: FindTraces returned trace %s twice", r, sum.TraceID)
						return
					}
					seen[sum.TraceID] = true
				}
				if _, err := h.Services(ctx); err != nil {
					t.Errorf("reader %d: Services: %v", r, err)
					return
				}
			}
		})
	}
	if fl, ok := h.Backend.(storage.Flusher); ok {
		othersWG.Go(func() {
			for !done.Load() {
				if err := fl.Flush(ctx); err != nil {
					t.Errorf("Flush: %v", err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	writersWG.Wait()
	done.Store(true)
	othersWG.Wait()
	if t.Failed() {
		return
	}

	checkTraces(t, h, all, "after concurrent writes")
	q := &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: storage.MaxLimit}
	checkFound(t, h, q, all)
}

// checkFound asserts that q finds every trace of spans exactly once, with
// the right span count; q must match every trace.
func checkFound(t testing.TB, h *handle, q *storage.Query, spans []*model.Span) {
	t.Helper()
	traces := byTrace(spans)
	res := h.find(t.Context(), q)
	seen := map[model.TraceID]int{}
	for _, r := range res {
		seen[r.TraceID]++
		if want := len(traces[r.TraceID]); r.SpanCount != want {
			t.Errorf("FindTraces(%s): trace %s has SpanCount %d, want %d", queryString(q), r.TraceID, r.SpanCount, want)
		}
	}
	var missing, dup int
	for _, id := range sortedIDs(traces) {
		switch seen[id] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(res) != len(traces) {
		t.Errorf("FindTraces(%s): %d results for %d traces: %d missing, %d more than once", queryString(q), len(res), len(traces), missing, dup)
	}
}

func (s *suite) testRestart(t *testing.T) {
	if s.opts.Ephemeral {
		t.Skip("the backend is ephemeral (Options.Ephemeral)")
	}
	ctx := t.Context()
	dir := t.TempDir()
	base := s.opts.baseTime()
	n := 30
	if s.opts.SkipSlow {
		n = 10
	}
	frontend := &storage.Query{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: storage.MaxLimit}

	// 1. Write without Flush; Close must keep it.
	first := GenerateTraces(7, n, 6, base.Add(-40*time.Minute))
	h := s.open(t, dir)
	for c := range slices.Chunk(cloneSpans(first), 17) {
		h.write(ctx, c)
	}
	h.close()

	// 2. Reopen: all found. Write more, including a late span of a trace
	// from before the restart, Flush, Close.
	h = s.open(t, dir)
	checkTraces(t, h, first, "after the first reopen")
	checkFound(t, h, frontend, first)
	second := GenerateTraces(8, n, 6, base.Add(-20*time.Minute))
	late := cloneSpans(first[:1])[0]
	late.SpanID = model.SpanID{0xfe, 0xed, 7: 1}
	late.ParentSpanID = first[0].SpanID
	late.Name = "late span"
	late.StartUnixNano += uint64(3 * time.Minute)
	late.EndUnixNano = late.StartUnixNano + uint64(time.Millisecond)
	second = append(second, late)
	h.write(ctx, cloneSpans(second))
	h.flush(ctx)
	h.close()

	// 3. Reopen: everything exactly once; and again without writing.
	all := append(slices.Clone(first), second...)
	for round := range 2 {
		h = s.open(t, dir)
		what := fmt.Sprintf("after reopen %d", round+2)
		checkTraces(t, h, all, what)
		checkFound(t, h, frontend, all)
		h.close()
	}
}

func (s *suite) testDurability(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	if err := h.Write(ctx, nil); err != nil {
		t.Fatalf("Write(no spans): %v", err)
	}
	n := 30
	if s.opts.SkipSlow {
		n = 10
	}
	spans := GenerateTraces(9, n, 4, s.opts.baseTime().Add(-10*time.Minute))
	written := map[model.TraceID][]*model.Span{}
	// Spans of different traces interleave, so that each write adds to a
	// trace that is already stored.
	order := make([]*model.Span, 0, len(spans))
	traces := byTrace(spans)
	ids := sortedIDs(traces)
	for i := range 4 {
		for _, id := range ids {
			order = append(order, traces[id][i])
		}
	}
	for i, sp := range order {
		h.write(ctx, cloneSpans([]*model.Span{sp}))
		written[sp.TraceID] = append(written[sp.TraceID], sp)
		got := h.trace(ctx, sp.TraceID, storage.TimeRange{})
		if d := DiffSpans(written[sp.TraceID], got); d != "" {
			t.Fatalf("write %d: Trace(%s) right after a successful Write: %s", i, sp.TraceID, d)
		}
	}
}

func (s *suite) testClosed(t *testing.T) {
	ctx := t.Context()
	h := s.open(t, t.TempDir())
	spans := GenerateTraces(4, 1, 3, s.opts.baseTime())
	h.write(ctx, cloneSpans(spans))
	h.close()
	calls := []struct {
		name string
		call func() error
	}{
		{"Write", func() error { return h.Write(ctx, cloneSpans(spans)) }},
		{"Trace", func() error { _, err := h.Trace(ctx, spans[0].TraceID, storage.TimeRange{}); return err }},
		{"FindTraces", func() error { _, err := h.FindTraces(ctx, &storage.Query{}); return err }},
		{"Services", func() error { _, err := h.Services(ctx); return err }},
		{"Operations", func() error { _, err := h.Operations(ctx, storage.OperationQuery{}); return err }},
		{"AttributeNames", func() error { _, err := h.AttributeNames(ctx, storage.AttributeQuery{Limit: 10}); return err }},
		{"AttributeValues", func() error {
			_, err := h.AttributeValues(ctx, storage.AttributeQuery{Name: "http.method", Limit: 10})
			return err
		}},
		{"Dependencies", func() error { _, err := h.Dependencies(ctx, storage.TimeRange{}); return err }},
	}
	if fl, ok := h.Backend.(storage.Flusher); ok {
		calls = append(calls, struct {
			name string
			call func() error
		}{"Flush", func() error { return fl.Flush(ctx) }})
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: err %v, want storage.ErrClosed", c.name, err)
		}
	}
}
