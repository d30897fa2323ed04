package clew_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/analysis"
	"github.com/clew-tracing/clew/internal/api/clew"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

var now = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func str(k, v string) model.KeyValue { return model.KeyValue{Key: k, Value: model.StringValue(v)} }

func resource(service string, attrs ...model.KeyValue) *model.Resource {
	return &model.Resource{ServiceName: service, Attributes: append([]model.KeyValue{str("service.name", service)}, attrs...)}
}

// Resources of the shop; bank's owner comes from its resource attributes.
var (
	checkout = resource("checkout")
	payment  = resource("payment")
	bank     = resource("bank", str("service.owner", "team-bank"), str("oncall", "#bank-oncall"))
)

// The explained trace, and its start.
const slowTrace = "5107d3a1e5f44c0a9d4c7e8e0c1a2b3c"

var slowAt = now.Add(-10 * time.Minute)

// shopTrace is checkout → payment → bank starting at t; the bank call
// takes bankMs, and fails when failed is set.
func shopTrace(id string, t time.Time, bankMs int, failed bool) []*model.Span {
	tid := must(model.ParseTraceID(id))
	at := func(ms int) uint64 { return uint64(t.Add(time.Duration(ms) * time.Millisecond).UnixNano()) }
	total := bankMs + 100
	mk := func(sid, parent string, r *model.Resource, name string, kind model.SpanKind, start, end int) *model.Span {
		s := &model.Span{TraceID: tid, SpanID: must(model.ParseSpanID(sid)), Name: name, Kind: kind,
			Resource: r, Scope: &model.Scope{}, StartUnixNano: at(start), EndUnixNano: at(end)}
		if parent != "" {
			s.ParentSpanID = must(model.ParseSpanID(parent))
		}
		return s
	}
	spans := []*model.Span{
		mk("a1", "", checkout, "GET /checkout", model.KindServer, 0, total),
		mk("a2", "a1", checkout, "charge", model.KindClient, 10, total-10),
		mk("a3", "a2", payment, "POST /charge", model.KindServer, 20, total-20),
		mk("a4", "a3", bank, "authorize", model.KindServer, 30, 30+bankMs),
	}
	if failed {
		for _, s := range spans[1:] {
			s.StatusCode, s.StatusMessage = model.StatusError, "declined"
		}
		spans[3].StatusMessage = "deadline exceeded"
		spans[0].StatusCode = model.StatusError
	}
	return spans
}

// countingReader counts the searches that reach storage. It hides the
// store's optional interfaces, so that the API samples traces.
type countingReader struct {
	storage.Backend
	finds atomic.Int64
}

// statsReader is a countingReader that also offers the store's
// operation and edge statistics.
type statsReader struct {
	*countingReader
	stats storage.StatsReader
}

func (s *statsReader) OperationStats(ctx context.Context, q storage.StatsQuery) ([]storage.OperationStats, error) {
	return s.stats.OperationStats(ctx, q)
}

func (s *statsReader) EdgeStats(ctx context.Context, q storage.StatsQuery) ([]storage.EdgeStats, error) {
	return s.stats.EdgeStats(ctx, q)
}

func (c *countingReader) FindTraces(ctx context.Context, q *storage.Query) ([]storage.TraceSummary, error) {
	c.finds.Add(1)
	return c.Backend.FindTraces(ctx, q)
}

type fixture struct {
	srv    *httptest.Server
	reader *countingReader
	q      *query.Service
}

// newFixture stores 40 usual shop traces over the last 20 hours (bank
// 80-119 ms) and one slow, failed trace (bank 900 ms), and serves the API
// from samples of traces.
func newFixture(t *testing.T, opts clew.Options) *fixture {
	t.Helper()
	return newFixtureOn(t, memstore.New(), false, opts)
}

// newStatsFixture is newFixture on a backend with operation statistics.
func newStatsFixture(t *testing.T, st storage.Backend, opts clew.Options) *fixture {
	t.Helper()
	return newFixtureOn(t, st, true, opts)
}

func newFixtureOn(t *testing.T, st storage.Backend, withStats bool, opts clew.Options) *fixture {
	t.Helper()
	for i := range 40 {
		if fl, ok := st.(storage.Flusher); ok && i == 20 {
			// The older half is read from the long-term form, the rest
			// from the head.
			if err := fl.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		id := fmt.Sprintf("%032x", i+1)
		if err := st.Write(context.Background(), shopTrace(id, now.Add(-time.Duration(i+1)*30*time.Minute), 80+i, false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Write(context.Background(), shopTrace(slowTrace, slowAt, 900, true)); err != nil {
		t.Fatal(err)
	}
	r := &countingReader{Backend: st}
	var qr query.Reader = r
	if withStats {
		qr = &statsReader{countingReader: r, stats: st.(storage.StatsReader)}
	}
	q := must(query.New(qr, query.Options{Now: func() time.Time { return now }}))
	mux := http.NewServeMux()
	clew.New(q, opts).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &fixture{srv: srv, reader: r, q: q}
}

// get fetches path and decodes the JSON body into out.
func (f *fixture) get(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := f.srv.Client().Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return resp.StatusCode
}

type errorBody struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

var _ analysis.BaselineSource = (*clew.Baselines)(nil)
