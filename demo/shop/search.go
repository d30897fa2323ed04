package shop

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
)

// reindexDocuments is how many documents a reindex writes: every product
// in many variants, one span each, so that the reindex is one trace of
// thousands of spans.
const reindexDocuments = 3000

// reindexBulk is how many documents go in one bulk request.
const reindexBulk = 100

// search is the full-text search behind the catalog, on an
// Elasticsearch-like index.
type search struct {
	*service
	data  *catalogData
	index *db.DB
}

func newSearch(s *service, data *catalogData, seed uint64) *search {
	x := &search{
		service: s,
		data:    data,
		index:   db.New(s.tracer, db.Options{System: "elasticsearch", Name: "products", Server: "search.es.internal", Port: 9200, Latency: 4 * time.Millisecond, Seed: seed}),
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET /search", x.find)
	s.handle(mux, "POST /reindex", x.reindex)
	s.serveHTTP(mux)
	return x
}

func (x *search) find(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query().Get("q")
	hits := x.data.search(q)
	stmt := fmt.Sprintf(`GET /products/_search {"query":{"multi_match":{"query":%q,"fields":["name","category"]}}}`, q)
	if err := x.index.Query(ctx, stmt, len(hits)); err != nil {
		return err
	}
	ids := x.rank(ctx, q, hits)
	return writeJSON(w, http.StatusOK, map[string]any{"ids": ids})
}

// rank orders the hits: a custom span with the query and the counts.
func (x *search) rank(ctx context.Context, q string, hits []product) []string {
	_, span := x.tracer.Start(ctx, "rank results", trace.WithAttributes(
		attribute.String("search.query", q), attribute.Int("search.hits", len(hits))))
	defer span.End()
	if len(hits) == 0 {
		span.AddEvent("no results", trace.WithAttributes(attribute.String("search.query", q)))
	}
	ids := make([]string, 0, len(hits))
	for _, p := range hits {
		ids = append(ids, p.ID)
	}
	_ = x.work(ctx, time.Millisecond)
	span.SetAttributes(attribute.Int("search.returned", len(ids)))
	return ids
}

// reindex rebuilds the index from the catalog: one span per document and
// one bulk request per hundred. It runs synchronously, so the admin's
// request waits for it and its trace holds every span.
func (x *search) reindex(w http.ResponseWriter, r *http.Request) error {
	ctx, span := x.tracer.Start(r.Context(), "reindex catalog", trace.WithAttributes(
		attribute.Int("search.documents", reindexDocuments)))
	defer span.End()
	pending := 0
	for i := range reindexDocuments {
		p := x.data.products[i%len(x.data.products)]
		_, doc := x.tracer.Start(ctx, "transform document", trace.WithAttributes(
			attribute.String("search.document.id", docID(p, i/len(x.data.products))),
			attribute.String("product.id", p.ID)))
		doc.End()
		pending++
		if pending == reindexBulk || i == reindexDocuments-1 {
			if err := x.index.Query(ctx, fmt.Sprintf("POST /products/_bulk (%d index actions)", pending), pending); err != nil {
				fail(span, err)
				return err
			}
			pending = 0
		}
	}
	span.AddEvent("index swapped", trace.WithAttributes(attribute.String("search.index", "products")))
	return writeJSON(w, http.StatusOK, map[string]any{"documents": reindexDocuments})
}

// docID names variant i of product p's search document.
func docID(p product, i int) string { return fmt.Sprintf("%s-v%d", p.ID, i) }
