package block

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// bruteSearch is the reference: every span through storage.Matcher.
func bruteSearch(spans []*model.Span, m *storage.Matcher, limit int) []Hit {
	starts := map[model.TraceID]uint64{}
	for _, s := range spans {
		if st, ok := starts[s.TraceID]; !ok || s.StartUnixNano < st {
			starts[s.TraceID] = s.StartUnixNano
		}
	}
	matched := map[model.TraceID]bool{}
	for _, s := range spans {
		if m.Match(s) {
			matched[s.TraceID] = true
		}
	}
	var hits []Hit
	for id := range matched {
		hits = append(hits, Hit{TraceID: id, StartUnixNano: starts[id]})
	}
	sortHits(hits)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

func cond(f storage.Field, op storage.Op, v model.Value) storage.Condition {
	return storage.Condition{Field: f, Op: op, Value: v}
}

func attr(scope storage.AttrScope, key string, op storage.Op, v model.Value) storage.Condition {
	return storage.Condition{Field: storage.FieldAttribute, Scope: scope, Key: key, Op: op, Value: v}
}

// searchQueries covers every field, every attribute scope and every
// operator, on the data of genRandom and genRealistic.
func searchQueries(base uint64) []storage.Query {
	str, i64, f64 := model.StringValue, model.IntValue, model.DoubleValue
	var qs []storage.Query
	add := func(cs ...storage.Condition) { qs = append(qs, storage.Query{Conditions: cs}) }
	add()
	add(cond(storage.FieldService, storage.OpEqual, str("svc-1")))
	add(cond(storage.FieldService, storage.OpEqual, str("frontend")))
	add(cond(storage.FieldService, storage.OpEqual, str("")))
	add(cond(storage.FieldService, storage.OpNotEqual, str("svc-1")))
	add(cond(storage.FieldService, storage.OpRegex, str("svc-[23]|cart")))
	add(cond(storage.FieldService, storage.OpEqual, str("no-such-service")))
	add(cond(storage.FieldName, storage.OpEqual, str("op-3")))
	add(cond(storage.FieldName, storage.OpRegex, str("op-[0-2]")))
	add(cond(storage.FieldName, storage.OpEqual, str("cart/GetQuote")))
	add(cond(storage.FieldKind, storage.OpEqual, i64(int64(model.KindServer))))
	add(cond(storage.FieldKind, storage.OpGreater, i64(int64(model.KindClient))))
	add(cond(storage.FieldStatus, storage.OpEqual, i64(int64(model.StatusError))))
	add(cond(storage.FieldStatus, storage.OpNotEqual, i64(int64(model.StatusUnset))))
	add(cond(storage.FieldStatusMessage, storage.OpEqual, str("boom")))
	add(cond(storage.FieldStatusMessage, storage.OpRegex, str(".*o.*")))
	add(cond(storage.FieldDuration, storage.OpGreater, i64(400e6)))
	add(cond(storage.FieldDuration, storage.OpLessEqual, i64(0)))
	add(cond(storage.FieldDuration, storage.OpLess, f64(1e6)))
	add(cond(storage.FieldDuration, storage.OpGreaterEqual, str("3")))
	add(cond(storage.FieldDuration, storage.OpGreater, i64(100e6)), cond(storage.FieldDuration, storage.OpLess, i64(200e6)))
	add(cond(storage.FieldScopeName, storage.OpEqual, str("lib2")))
	add(cond(storage.FieldScopeName, storage.OpEqual, str("")))
	add(cond(storage.FieldScopeVersion, storage.OpEqual, str("1.0")))
	for _, sc := range []storage.AttrScope{storage.ScopeAny, storage.ScopeSpan, storage.ScopeResource, storage.ScopeInstrumentation, storage.ScopeEvent, storage.ScopeLink} {
		add(attr(sc, "k1", storage.OpEqual, str("a")))
		add(attr(sc, "k2", storage.OpNotEqual, str("GET")))
		add(attr(sc, "k3", storage.OpRegex, str("val-1.*")))
		add(attr(sc, "k4", storage.OpNotRegex, str("val-.*")))
		add(attr(sc, "k5", storage.OpGreater, i64(500)))
		add(attr(sc, "k6", storage.OpLessEqual, f64(1.5)))
		add(attr(sc, "k7", storage.OpEqual, model.BoolValue(true)))
		add(attr(sc, "k8", storage.OpExists, model.Value{}))
		add(attr(sc, "k9", storage.OpNotExists, model.Value{}))
		add(attr(sc, "k0", storage.OpEqual, str("1")))
		add(attr(sc, "k10", storage.OpGreaterEqual, str("m")))
		add(attr(sc, "k11", storage.OpEqual, str("AAD/")))
		add(attr(sc, "nope", storage.OpEqual, str("a")))
		add(attr(sc, "nope", storage.OpNotExists, model.Value{}))
		add(attr(sc, "url.path", storage.OpEqual, str("/api/items/42")))
		add(attr(sc, "http.response.status_code", storage.OpEqual, i64(500)))
		add(attr(sc, "http.response.status_code", storage.OpEqual, str("404")))
		add(attr(sc, "host.name", storage.OpEqual, str("node-3")))
		add(attr(sc, "exception.type", storage.OpExists, model.Value{}))
	}
	add(cond(storage.FieldService, storage.OpEqual, str("svc-2")), cond(storage.FieldName, storage.OpEqual, str("op-1")),
		cond(storage.FieldDuration, storage.OpGreater, i64(1e6)), attr(storage.ScopeSpan, "k1", storage.OpExists, model.Value{}))
	add(cond(storage.FieldService, storage.OpEqual, str("checkout")), cond(storage.FieldName, storage.OpRegex, str(".*GetQuote")),
		cond(storage.FieldDuration, storage.OpGreater, i64(1e6)), attr(storage.ScopeSpan, "http.request.method", storage.OpEqual, str("POST")))
	add(attr(storage.ScopeAny, "k1", storage.OpExists, model.Value{}), attr(storage.ScopeAny, "k2", storage.OpNotExists, model.Value{}))
	// Time ranges.
	n := len(qs)
	for _, q := range qs[:n] {
		for _, r := range []storage.TimeRange{{Start: base + 500e9}, {End: base + 300e9}, {Start: base + 200e9, End: base + 600e9}, {Start: base + 3600e9, End: base + 3700e9}} {
			q2 := q
			q2.Range = r
			qs = append(qs, q2)
		}
	}
	return qs
}

func TestSearch(t *testing.T) {
	const base = 1_700_000_000_000_000_000
	r := rand.New(rand.NewPCG(9, 9))
	spans := genRandom(r, 300)
	w := newRealWorld(r)
	spans = append(spans, genRealistic(r, w, 300, base)...)
	ctx := context.Background()
	for _, rgs := range []int{0, 37} {
		b := writeBlock(t, spans, WriteOptions{RowGroupSpans: rgs})
		nonEmpty := 0
		for qi, q := range searchQueries(base) {
			m, err := storage.NewMatcher(&q)
			if err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{1, 20, 100000} {
				got, err := b.Search(ctx, m, limit)
				if err != nil {
					t.Fatalf("query %d: %v", qi, err)
				}
				want := bruteSearch(spans, m, limit)
				if len(got) == 0 && len(want) == 0 {
					continue
				}
				if limit == 20 {
					nonEmpty++
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("rgs %d query %d %v range %+v limit %d:\n got %d %v\nwant %d %v", rgs, qi, q.Conditions, q.Range, limit, len(got), head(got), len(want), head(want))
				}
				// With a floor: only what ranks before it.
				all := bruteSearch(spans, m, 100000)
				for _, f := range []int{0, len(all) / 3, len(all) - 1} {
					floor := all[f]
					got, err := b.SearchAfter(ctx, m, limit, &floor)
					if err != nil {
						t.Fatalf("query %d: %v", qi, err)
					}
					want := all[:min(f, limit)]
					if len(want) == 0 {
						want = nil
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("rgs %d query %d %v range %+v limit %d floor %v:\n got %d %v\nwant %d %v", rgs, qi, q.Conditions, q.Range, limit, floor, len(got), head(got), len(want), head(want))
					}
				}
			}
		}
		if nonEmpty < 200 {
			t.Errorf("only %d queries found something; the test data is too sparse", nonEmpty)
		}
	}
}

func head(h []Hit) string {
	if len(h) > 3 {
		h = h[:3]
	}
	return fmt.Sprint(h)
}

// Newest first: hits are ordered by start time descending, ties by ID.
func TestSearchOrder(t *testing.T) {
	var spans []*model.Span
	for i := range 50 {
		s := &model.Span{TraceID: model.TraceID{byte(i * 5 % 50)}, SpanID: model.SpanID{1}, Name: "x", StartUnixNano: uint64(1000 + i%10), EndUnixNano: 2000}
		spans = append(spans, s)
	}
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 4})
	m, _ := storage.NewMatcher(&storage.Query{})
	hits, err := b.Search(context.Background(), m, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 7 {
		t.Fatalf("%d hits", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		a, c := hits[i-1], hits[i]
		if a.StartUnixNano < c.StartUnixNano || a.StartUnixNano == c.StartUnixNano && bytes.Compare(a.TraceID[:], c.TraceID[:]) > 0 {
			t.Fatalf("hits out of order: %v", hits)
		}
	}
	if hits[0].StartUnixNano != 1009 {
		t.Fatalf("newest hit %v", hits[0])
	}
}

// SearchAll finds the same traces as an unlimited Search, each once,
// including traces split across row groups, and honours the range.
func TestSearchAll(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	spans := genRealistic(r, newRealWorld(r), 300, benchBase)
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 64})
	ctx := context.Background()
	mid := spans[len(spans)/2].StartUnixNano
	for _, q := range []*storage.Query{{}, {Range: storage.TimeRange{Start: mid}},
		{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue(spans[0].Service())}}}} {
		m, err := storage.NewMatcher(q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := b.Search(ctx, m, math.MaxInt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.SearchAll(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		sortHits(got)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%+v: SearchAll found %d traces, Search %d", q, len(got), len(want))
		}
	}
}

// Search must stop early: with time-ordered trace IDs (as some ID
// generators make them), a limited search for the newest traces reads only
// the newest row groups. Every other row group is overwritten with garbage,
// so reading one would fail with a CorruptionError.
func TestSearchStopsEarly(t *testing.T) {
	var spans []*model.Span
	for i := range 2000 {
		var id model.TraceID
		id[0], id[1] = byte(i>>8), byte(i)
		spans = append(spans, &model.Span{TraceID: id, SpanID: model.SpanID{1}, Name: "x", StartUnixNano: uint64(1e9 + i), EndUnixNano: uint64(2e9 + i)})
	}
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 100})
	if len(b.rgs) != 20 {
		t.Fatalf("%d row groups", len(b.rgs))
	}
	f, err := os.OpenFile(filepath.Join(b.Dir(), DataFile), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range b.rgs[:18] {
		if _, err := f.WriteAt(make([]byte, g.end()-g.offset()), g.offset()); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	m, _ := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{cond(storage.FieldName, storage.OpEqual, model.StringValue("x"))}})
	hits, err := b.Search(context.Background(), m, 150)
	if err != nil || len(hits) != 150 || hits[0].StartUnixNano != 1e9+1999 || hits[149].StartUnixNano != 1e9+1850 {
		t.Fatalf("hits %d %v", len(hits), err)
	}
	// A larger limit needs an older row group, which is corrupt.
	var ce *CorruptionError
	if _, err := b.Search(context.Background(), m, 250); !errors.As(err, &ce) {
		t.Fatalf("limit 250: %v", err)
	}
}

// When traces start at the same time (coarse clocks, or a load generator
// replaying templates), ties rank by trace ID: once the result is full, a
// row group whose smallest trace ID ranks after the last hit cannot
// contribute and is not read. Every row group but the first two is
// overwritten with garbage, so reading one would fail.
func TestSearchStopsEarlyOnTies(t *testing.T) {
	var spans []*model.Span
	for i := range 2000 {
		var id model.TraceID
		id[0], id[1] = byte(i>>8), byte(i)
		spans = append(spans, &model.Span{TraceID: id, SpanID: model.SpanID{1}, Name: "x", StartUnixNano: 1e9, EndUnixNano: 2e9})
	}
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 100})
	f, err := os.OpenFile(filepath.Join(b.Dir(), DataFile), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range b.rgs[2:] {
		if _, err := f.WriteAt(make([]byte, g.end()-g.offset()), g.offset()); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	m, _ := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{cond(storage.FieldName, storage.OpEqual, model.StringValue("x"))}})
	hits, err := b.Search(context.Background(), m, 150)
	if err != nil || len(hits) != 150 || hits[0].TraceID != spans[0].TraceID || hits[149].TraceID != spans[149].TraceID {
		t.Fatalf("hits %d %v", len(hits), err)
	}
	// With a floor inside the second row group, the others are skipped
	// from the start.
	floor := Hit{TraceID: spans[120].TraceID, StartUnixNano: 1e9}
	hits, err = b.SearchAfter(context.Background(), m, 1000, &floor)
	if err != nil || len(hits) != 120 {
		t.Fatalf("after %v: hits %d %v", floor, len(hits), err)
	}
}
