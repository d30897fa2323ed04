package block

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { removeLargeBlock() }))
}

// sortSpans orders spans by trace ID, start and span ID: the order in which
// a block returns them (span IDs break ties in the tests' data).
func sortSpans(spans []*model.Span) []*model.Span {
	out := slices.Clone(spans)
	slices.SortStableFunc(out, func(a, b *model.Span) int {
		return cmp.Or(bytes.Compare(a.TraceID[:], b.TraceID[:]), cmp.Compare(a.StartUnixNano, b.StartUnixNano), bytes.Compare(a.SpanID[:], b.SpanID[:]))
	})
	return out
}

func writeBlock(t testing.TB, spans []*model.Span, opts WriteOptions) *Block {
	t.Helper()
	dir := t.TempDir()
	meta, err := Write(dir, spans, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	b, err := Open(filepath.Join(dir, meta.ID))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func collect(t testing.TB, b *Block) []*model.Span {
	t.Helper()
	var out []*model.Span
	for s, err := range b.Spans(context.Background()) {
		if err != nil {
			t.Fatalf("Spans: %v", err)
		}
		out = append(out, s)
	}
	return out
}

func diffSpans(t *testing.T, got, want []*model.Span) {
	t.Helper()
	got, want = sortSpans(got), sortSpans(want)
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("span %d differs:\n got %+v\nwant %+v\n got res %+v scope %+v\nwant res %+v scope %+v", i, *got[i], *want[i], got[i].Resource, got[i].Scope, want[i].Resource, want[i].Scope)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, rgs := range []int{0, 7, 64} {
		r := rand.New(rand.NewPCG(1, uint64(rgs)))
		spans := genRandom(r, 300)
		b := writeBlock(t, spans, WriteOptions{RowGroupSpans: rgs, Level: 2, Sources: []string{"a", "b"}})
		diffSpans(t, collect(t, b), spans)

		m := b.Meta()
		if m.SpanCount != len(spans) || m.TraceCount != 300 || m.Level != 2 || !slices.Equal(m.Sources, []string{"a", "b"}) || m.Version != FormatVersion {
			t.Errorf("meta %+v", m)
		}
		minT, maxT := spans[0].StartUnixNano, uint64(0)
		for _, s := range spans {
			minT, maxT = min(minT, s.StartUnixNano), max(maxT, s.EndUnixNano, s.StartUnixNano)
		}
		if m.MinTime != minT || m.MaxTime != maxT {
			t.Errorf("time range [%d, %d], want [%d, %d]", m.MinTime, m.MaxTime, minT, maxT)
		}
		if filepath.Base(b.Dir()) != m.ID || len(m.ID) != 20 {
			t.Errorf("dir %s id %s", b.Dir(), m.ID)
		}
		var sum int64
		for _, f := range m.Files {
			st, err := os.Stat(filepath.Join(b.Dir(), f.Name))
			if err != nil || st.Size() != f.Bytes {
				t.Errorf("file %s: %v size %d", f.Name, err, f.Bytes)
			}
			sum += f.Bytes
		}
		if sum != m.Bytes {
			t.Errorf("Bytes %d, files add to %d", m.Bytes, sum)
		}
	}
}

func TestSpansOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	b := writeBlock(t, genRandom(r, 200), WriteOptions{RowGroupSpans: 16})
	got := collect(t, b)
	seen := map[model.TraceID]bool{}
	for i, s := range got {
		if i == 0 {
			seen[s.TraceID] = true
			continue
		}
		p := got[i-1]
		switch c := bytes.Compare(p.TraceID[:], s.TraceID[:]); {
		case c > 0:
			t.Fatalf("span %d: trace IDs out of order", i)
		case c < 0:
			if seen[s.TraceID] {
				t.Fatalf("span %d: trace %s not consecutive", i, s.TraceID)
			}
			seen[s.TraceID] = true
		case s.StartUnixNano < p.StartUnixNano:
			t.Fatalf("span %d: starts out of order within trace", i)
		}
	}
	// Stopping early must not leak or fail.
	for range b.Spans(context.Background()) {
		break
	}
}

func TestTrace(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	spans := genRandom(r, 400)
	byTrace := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	for _, rgs := range []int{0, 8} {
		b := writeBlock(t, spans, WriteOptions{RowGroupSpans: rgs})
		for id, want := range byTrace {
			got, err := b.Trace(context.Background(), id)
			if err != nil {
				t.Fatalf("Trace(%s): %v", id, err)
			}
			diffSpans(t, got, want)
		}
		for range 100 {
			got, err := b.Trace(context.Background(), randTraceID(r))
			if err != nil || got != nil {
				t.Fatalf("missing trace: %v, %d spans", err, len(got))
			}
		}
		// IDs below and above every stored ID.
		for _, id := range []model.TraceID{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
			if got, err := b.Trace(context.Background(), id); err != nil || got != nil {
				t.Fatalf("Trace(%s) = %d spans, %v", id, len(got), err)
			}
		}
		// Many at once, stored and missing mixed, in any order.
		var ids []model.TraceID
		for id := range byTrace {
			ids = append(ids, id, randTraceID(r))
		}
		got, err := b.Traces(context.Background(), ids)
		if err != nil || len(got) != len(ids) {
			t.Fatalf("Traces: %d results, %v", len(got), err)
		}
		light, err := b.TracesLight(context.Background(), ids)
		if err != nil || len(light) != len(ids) {
			t.Fatalf("TracesLight: %d results, %v", len(light), err)
		}
		for i := range ids {
			sameLight(t, light[i], got[i])
		}
		for i, id := range ids {
			if want := byTrace[id]; want != nil {
				diffSpans(t, got[i], want)
			} else if got[i] != nil {
				t.Fatalf("Traces: missing trace %s has %d spans", id, len(got[i]))
			}
		}
	}
}

// Returned spans belong to the caller: modifying them (and their shared
// Resource) must not change what the block returns next time.
func TestTraceOwnership(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	spans := genRandom(r, 20)
	b := writeBlock(t, spans, WriteOptions{})
	id := spans[0].TraceID
	got, _ := b.Trace(context.Background(), id)
	for _, s := range got {
		if s.Resource != nil {
			s.Resource.ServiceName = "changed"
			s.Resource.Attributes = append(s.Resource.Attributes, model.KeyValue{Key: "x"})
		}
	}
	again, _ := b.Trace(context.Background(), id)
	for _, s := range again {
		if s.Resource != nil && s.Resource.ServiceName == "changed" {
			t.Fatal("block shares its resources with callers")
		}
	}
}

// A trace longer than two row groups is split across row groups; every
// read must still see it whole.
func TestSplitTrace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	spans := genRandom(r, 30)
	big := randTraceID(r)
	var bigSpans []*model.Span
	for i := range 100 {
		s := &model.Span{TraceID: big, SpanID: randSpanID(r), Name: "big", StartUnixNano: 1_700_000_000_000_000_000 + uint64(i*1000), EndUnixNano: 1_700_000_000_000_000_000 + uint64(i*1000+10),
			Resource: &model.Resource{ServiceName: []string{"a", "b"}[i%2]}}
		if i > 0 {
			s.ParentSpanID = bigSpans[i-1].SpanID
		}
		bigSpans = append(bigSpans, s)
	}
	// Reverse order within the trace, so that per-segment sorting is exercised.
	slices.Reverse(bigSpans)
	spans = append(spans, bigSpans...)
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 10})
	if len(b.splits) != 1 || b.splits[0].id != big {
		t.Fatalf("splits %+v", b.splits)
	}
	got, err := b.Trace(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	diffSpans(t, got, bigSpans)
	diffSpans(t, collect(t, b), spans)
	several, err := b.Traces(context.Background(), []model.TraceID{spans[0].TraceID, big})
	if err != nil {
		t.Fatal(err)
	}
	diffSpans(t, several[1], bigSpans)
	light, err := b.TracesLight(context.Background(), []model.TraceID{spans[0].TraceID, big})
	if err != nil {
		t.Fatal(err)
	}
	for i := range several {
		sameLight(t, light[i], several[i])
	}

	m, _ := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{{Field: storage.FieldName, Op: storage.OpEqual, Value: model.StringValue("big")}}})
	hits, err := b.Search(context.Background(), m, 10)
	if err != nil || len(hits) != 1 || hits[0].TraceID != big || hits[0].StartUnixNano != 1_700_000_000_000_000_000 {
		t.Fatalf("Search = %+v, %v", hits, err)
	}
	acc := map[storage.DependencyKey]*storage.Dependency{}
	if err := b.Dependencies(context.Background(), storage.TimeRange{}, acc); err != nil {
		t.Fatal(err)
	}
	want := map[storage.DependencyKey]*storage.Dependency{}
	storage.AddDependencies(want, bigSpans, storage.TimeRange{})
	for k, d := range want {
		if g := acc[k]; g == nil || g.CallCount < d.CallCount {
			t.Fatalf("dependency %v: got %+v want %+v", k, g, d)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty Finish: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("empty writer left %v", ents)
	}
	if _, err := Write(dir, nil, WriteOptions{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Write(nil): %v", err)
	}

	w, err = NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := &model.Span{TraceID: model.TraceID{2}, SpanID: model.SpanID{1}, StartUnixNano: 1}
	if err := w.Append(a); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(&model.Span{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("out of order: %v", err)
	}
	if err := w.Append(nil); err == nil {
		t.Fatal("nil span accepted")
	}
	bad := *a
	bad.Attributes = []model.KeyValue{{Key: "x", Value: model.Value{Type: 99}}}
	if err := w.Append(&bad); err == nil {
		t.Fatal("unknown value type accepted")
	}
	deep := model.StringValue("leaf")
	for range maxValueDepth + 2 {
		deep = model.Value{Type: model.TypeArray, Array: []model.Value{deep}}
	}
	bad.Attributes = []model.KeyValue{{Key: "x", Value: deep}}
	if err := w.Append(&bad); err == nil {
		t.Fatal("too deep value accepted")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(a); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("Append after Abort: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("aborted writer left %v", ents)
	}
	if _, err := NewWriter(dir, WriteOptions{RowGroupSpans: -1}); err == nil {
		t.Fatal("negative RowGroupSpans accepted")
	}
}

// A leftover .tmp-for-creation directory (a crash mid-write) does not
// disturb other blocks, and opening it fails cleanly.
func TestLeftoverTmp(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(6, 6))
	spans := genRandom(r, 10)
	w, err := NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sortSpans(spans) {
		if err := w.Append(s); err != nil {
			t.Fatal(err)
		}
	}
	// Simulate a crash: the writer is dropped without Finish or Abort.
	w.flush(false)
	w.bw.Flush()
	w.f.Close()
	w.enc.Close()
	meta, err := Write(dir, spans, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var tmp string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), TmpSuffix) {
			tmp = e.Name()
		}
	}
	if tmp == "" || len(ents) != 2 {
		t.Fatalf("dir holds %v", ents)
	}
	b, err := Open(filepath.Join(dir, meta.ID))
	if err != nil {
		t.Fatal(err)
	}
	diffSpans(t, collect(t, b), spans)
	b.Close()
	if _, err := Open(filepath.Join(dir, tmp)); err == nil {
		t.Fatal("opened an unfinished block")
	}
}

func TestCatalog(t *testing.T) {
	spans := []*model.Span{
		{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, Name: "b", Kind: model.KindServer, StartUnixNano: 10, EndUnixNano: 20,
			Resource:   &model.Resource{ServiceName: "svc2", Attributes: []model.KeyValue{{Key: "host", Value: model.StringValue("h")}}},
			Scope:      &model.Scope{Name: "lib", Attributes: []model.KeyValue{{Key: "lib.attr", Value: model.IntValue(1)}}},
			Attributes: []model.KeyValue{{Key: "http.method", Value: model.StringValue("GET")}},
			Events:     []model.Event{{Name: "e", Attributes: []model.KeyValue{{Key: "ev.attr", Value: model.BoolValue(true)}}}},
			Links:      []model.Link{{SpanID: model.SpanID{9}, Attributes: []model.KeyValue{{Key: "http.method", Value: model.StringValue("x")}}}}},
		{TraceID: model.TraceID{2}, SpanID: model.SpanID{2}, Name: "a", Kind: model.KindClient, StartUnixNano: 10, EndUnixNano: 20,
			Resource: &model.Resource{ServiceName: "svc1"}},
		{TraceID: model.TraceID{2}, SpanID: model.SpanID{3}, Name: "a", Kind: model.KindServer, StartUnixNano: 10, EndUnixNano: 20,
			Resource: &model.Resource{ServiceName: "svc1"}},
		{TraceID: model.TraceID{3}, SpanID: model.SpanID{4}, Name: "z", StartUnixNano: 10, EndUnixNano: 20},
	}
	b := writeBlock(t, spans, WriteOptions{})
	c := b.Catalog()
	if want := []string{"", "svc1", "svc2"}; !slices.Equal(c.Services, want) {
		t.Errorf("services %q, want %q", c.Services, want)
	}
	wantOps := []storage.Operation{{Service: "", Name: "z"}, {Service: "svc1", Name: "a", Kind: model.KindServer}, {Service: "svc1", Name: "a", Kind: model.KindClient}, {Service: "svc2", Name: "b", Kind: model.KindServer}}
	slices.SortFunc(wantOps, func(x, y storage.Operation) int {
		return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Kind, y.Kind))
	})
	if !slices.Equal(c.Operations, wantOps) {
		t.Errorf("operations %+v, want %+v", c.Operations, wantOps)
	}
	wantAttrs := []storage.AttributeName{
		{Scope: storage.ScopeEvent, Name: "ev.attr"}, {Scope: storage.ScopeResource, Name: "host"},
		{Scope: storage.ScopeSpan, Name: "http.method"}, {Scope: storage.ScopeLink, Name: "http.method"},
		{Scope: storage.ScopeInstrumentation, Name: "lib.attr"},
	}
	if !slices.Equal(c.Attributes, wantAttrs) {
		t.Errorf("attributes %+v, want %+v", c.Attributes, wantAttrs)
	}

	ctx := context.Background()
	vals, err := b.AttributeValues(ctx, storage.ScopeAny, "http.method", 0)
	if err != nil || !reflect.DeepEqual(vals, []model.Value{model.StringValue("GET"), model.StringValue("x")}) {
		t.Errorf("AttributeValues(any, http.method) = %v, %v", vals, err)
	}
	vals, _ = b.AttributeValues(ctx, storage.ScopeLink, "http.method", 0)
	if !reflect.DeepEqual(vals, []model.Value{model.StringValue("x")}) {
		t.Errorf("AttributeValues(link) = %v", vals)
	}
	vals, _ = b.AttributeValues(ctx, storage.ScopeResource, "host", 0)
	if !reflect.DeepEqual(vals, []model.Value{model.StringValue("h")}) {
		t.Errorf("AttributeValues(resource) = %v", vals)
	}
	vals, _ = b.AttributeValues(ctx, storage.ScopeInstrumentation, "lib.attr", 0)
	if !reflect.DeepEqual(vals, []model.Value{model.IntValue(1)}) {
		t.Errorf("AttributeValues(instrumentation) = %v", vals)
	}
	vals, _ = b.AttributeValues(ctx, storage.ScopeEvent, "ev.attr", 5)
	if !reflect.DeepEqual(vals, []model.Value{model.BoolValue(true)}) {
		t.Errorf("AttributeValues(event) = %v", vals)
	}
	if vals, _ = b.AttributeValues(ctx, storage.ScopeAny, "nope", 5); vals != nil {
		t.Errorf("AttributeValues(nope) = %v", vals)
	}
}

func TestAttributeValuesLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	w := newRealWorld(r)
	spans := genRealistic(r, w, 300, 1_700_000_000_000_000_000)
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 256})
	want := map[string]bool{}
	for _, s := range spans {
		for _, kv := range s.Attributes {
			if kv.Key == "url.path" {
				want[kv.Value.Str] = true
			}
		}
	}
	all, err := b.AttributeValues(context.Background(), storage.ScopeSpan, "url.path", 0)
	if err != nil || len(all) != len(want) {
		t.Fatalf("got %d values, want %d (%v)", len(all), len(want), err)
	}
	for _, v := range all {
		if !want[v.Str] {
			t.Fatalf("unexpected value %v", v)
		}
	}
	some, _ := b.AttributeValues(context.Background(), storage.ScopeSpan, "url.path", 7)
	if len(some) != 7 {
		t.Fatalf("limit 7 gave %d", len(some))
	}
	codes, _ := b.AttributeValues(context.Background(), storage.ScopeAny, "http.response.status_code", 0)
	if len(codes) != 5 {
		t.Fatalf("status codes %v", codes)
	}
}

func TestDependencies(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	w := newRealWorld(r)
	spans := genRealistic(r, w, 400, 1_700_000_000_000_000_000)
	spans = append(spans, genRandom(r, 50)...)
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 500})
	byTrace := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	for _, rng := range []storage.TimeRange{{}, {Start: 1_700_000_000_000_000_000 + 3600e9}, {End: 1_700_000_000_000_000_000 + 1800e9}} {
		want := map[storage.DependencyKey]*storage.Dependency{}
		for _, ts := range byTrace {
			storage.AddDependencies(want, ts, rng)
		}
		got := map[storage.DependencyKey]*storage.Dependency{}
		if err := b.Dependencies(context.Background(), rng, got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(storage.SortedDependencies(got), storage.SortedDependencies(want)) {
			t.Fatalf("range %+v: got %v\nwant %v", rng, storage.SortedDependencies(got), storage.SortedDependencies(want))
		}
	}
}

// A Block serves concurrent readers (run with -race).
func TestConcurrentReads(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	spans := genRandom(r, 200)
	b := writeBlock(t, spans, WriteOptions{RowGroupSpans: 50})
	byTrace := map[model.TraceID][]*model.Span{}
	for _, s := range spans {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	m, _ := storage.NewMatcher(&storage.Query{Conditions: []storage.Condition{attr(storage.ScopeAny, "k3", storage.OpRegex, model.StringValue("val-1.*"))}})
	want := bruteSearch(spans, m, 1000)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id, ts := range byTrace {
				got, err := b.Trace(ctx, id)
				if err != nil || len(got) != len(ts) {
					errs <- fmt.Errorf("goroutine %d: trace %s: %d spans, %v", g, id, len(got), err)
					return
				}
			}
			hits, err := b.Search(ctx, m, 1000)
			if err != nil || !reflect.DeepEqual(hits, want) {
				errs <- fmt.Errorf("goroutine %d: search: %d hits, %v", g, len(hits), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// sameLight fails unless light holds full's spans with the fields
// TracesLight decodes.
func sameLight(t *testing.T, light, full []*model.Span) {
	t.Helper()
	if len(light) != len(full) {
		t.Fatalf("TracesLight: %d spans, Traces %d", len(light), len(full))
	}
	for i, f := range full {
		l := light[i]
		if l.TraceID != f.TraceID || l.SpanID != f.SpanID || l.ParentSpanID != f.ParentSpanID || l.StartUnixNano != f.StartUnixNano ||
			l.EndUnixNano != f.EndUnixNano || l.Kind != f.Kind || l.StatusCode != f.StatusCode || l.Service() != f.Service() {
			t.Fatalf("TracesLight span %d = %+v, want the light fields of %+v", i, l, f)
		}
	}
}
