package shop

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/faults"
)

// catalog answers product listings, product pages and searches. Behind it
// are search, pricing and inventory (availability) and shipping (quotes).
type catalog struct {
	*service
	data      *catalogData
	db        *db.DB
	search    *peer
	shipping  *peer
	pricing   *grpcClient
	inventory *grpcClient
}

func newCatalog(s *service, data *catalogData, seed uint64) (*catalog, error) {
	pricing, err := s.grpcPeer("pricing", pricingService)
	if err != nil {
		return nil, err
	}
	inventory, err := s.grpcPeer("inventory", inventoryService)
	if err != nil {
		return nil, err
	}
	c := &catalog{
		service:   s,
		data:      data,
		db:        db.New(s.tracer, db.Options{System: "postgresql", Name: "catalog", Server: "catalog-db.internal", Port: 5432, Latency: 2 * time.Millisecond, Seed: seed}),
		search:    s.httpPeer("search"),
		shipping:  s.httpPeer("shipping"),
		pricing:   pricing,
		inventory: inventory,
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET /products", c.list)
	s.handle(mux, "GET /products/{id}", c.get)
	s.handle(mux, "GET /search", c.find)
	s.serveHTTP(mux)
	return c, nil
}

// listing is a product with what the catalog adds to it.
type listing struct {
	product
	PriceCents int     `json:"price_cents"`
	Rating     float64 `json:"rating"`
}

func (c *catalog) list(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	category := r.URL.Query().Get("category")
	ps := c.data.inCategory(category)
	if len(ps) > 24 {
		ps = ps[:24]
	}
	if err := c.loadWithReviews(ctx, category, len(ps)); err != nil {
		return err
	}
	out, err := c.priced(ctx, ps)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"category": category, "products": out})
}

// loadWithReviews reads a page of products with their ratings. Healthy, it
// is one join; with the N+1 fault it is one query for the products and
// then one per product for its reviews, the pattern an ORM's lazy loading
// produces.
func (c *catalog) loadWithReviews(ctx context.Context, category string, n int) error {
	ctx, span := c.tracer.Start(ctx, "load products with reviews", trace.WithAttributes(
		attribute.String("catalog.category", category), attribute.Int("catalog.page_size", n)))
	defer span.End()
	if !c.dice.Strike(faults.NPlusOne) {
		span.SetAttributes(attribute.String("catalog.reviews.strategy", "join"))
		return c.db.Query(ctx, "SELECT p.id, p.name, p.category, avg(r.rating), count(r.id) FROM products p "+
			"LEFT JOIN reviews r ON r.product_id = p.id WHERE p.category = $1 GROUP BY p.id LIMIT 24", n)
	}
	span.SetAttributes(attribute.String("catalog.reviews.strategy", "per-product"))
	if err := c.db.Query(ctx, "SELECT id, name, category FROM products WHERE category = $1 LIMIT 24", n); err != nil {
		return err
	}
	for range n {
		if err := c.db.Query(ctx, "SELECT avg(rating), count(*) FROM reviews WHERE product_id = $1", 1); err != nil {
			return err
		}
	}
	return nil
}

// priced asks pricing for the current prices of ps.
func (c *catalog) priced(ctx context.Context, ps []product) ([]listing, error) {
	if len(ps) == 0 {
		return []listing{}, nil
	}
	ids := make([]any, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	res, err := c.pricing.call(ctx, "GetPrices", map[string]any{"ids": ids})
	if err != nil {
		return nil, httpErrorf(http.StatusBadGateway, "%v", err)
	}
	prices := res.Fields["prices"].GetStructValue().GetFields()
	out := make([]listing, len(ps))
	for i, p := range ps {
		out[i] = listing{product: p, PriceCents: int(prices[p.ID].GetNumberValue()), Rating: 3 + float64(len(p.Name)%20)/10}
	}
	return out, nil
}

func (c *catalog) get(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	p, ok := c.data.byID[id]
	if err := c.db.Query(ctx, "SELECT id, name, category, description FROM products WHERE id = $1", boolInt(ok)); err != nil {
		return err
	}
	if !ok {
		return httpErrorf(http.StatusNotFound, "no product %q", id)
	}
	// Price, stock and shipping are independent: ask all three at once.
	var (
		wg                       sync.WaitGroup
		priceErr, stockErr, sErr error
		priced                   []listing
		available                float64
		quote                    map[string]any
	)
	wg.Go(func() { priced, priceErr = c.priced(ctx, []product{p}) })
	wg.Go(func() {
		res, err := c.inventory.call(ctx, "Availability", map[string]any{"ids": []any{p.ID}})
		if err != nil {
			stockErr = httpErrorf(http.StatusBadGateway, "%v", err)
			return
		}
		available = res.Fields["available"].GetStructValue().GetFields()[p.ID].GetNumberValue()
	})
	wg.Go(func() {
		sErr = c.shipping.do(ctx, "GET", "/quote", "/quote?items=1&product="+url.QueryEscape(p.ID), nil, &quote)
	})
	wg.Wait()
	for _, err := range []error{priceErr, stockErr, sErr} {
		if err != nil {
			return upstream(err)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"product": priced[0], "available": available, "shipping": quote})
}

func (c *catalog) find(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var found struct{ IDs []string }
	if err := c.search.do(ctx, "GET", "/search", "/search?q="+url.QueryEscape(r.URL.Query().Get("q")), nil, &found); err != nil {
		return upstream(err)
	}
	var ps []product
	for _, id := range found.IDs {
		if p, ok := c.data.byID[id]; ok {
			ps = append(ps, p)
		}
	}
	out, err := c.priced(ctx, ps)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"query": r.URL.Query().Get("q"), "products": out, "total": len(out)})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
