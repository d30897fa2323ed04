package shop

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
)

// cartItem is a product and how many of it.
type cartItem struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// cart keeps each user's cart in a Redis-like store (and, really, in a
// map, so that checkout buys what the user put in).
type cart struct {
	*service
	data  *catalogData
	store *db.DB

	mu    sync.Mutex
	carts map[string][]cartItem
}

func newCart(s *service, data *catalogData, seed uint64) *cart {
	c := &cart{
		service: s,
		data:    data,
		store:   db.New(s.tracer, db.Options{System: "redis", Name: "carts", Server: "carts.redis.internal", Port: 6379, Latency: time.Millisecond, Seed: seed}),
		carts:   map[string][]cartItem{},
	}
	mux := http.NewServeMux()
	s.handle(mux, "POST /carts/{user}/items", c.add)
	s.handle(mux, "GET /carts/{user}", c.get)
	s.handle(mux, "DELETE /carts/{user}", c.empty)
	s.serveHTTP(mux)
	return c
}

func (c *cart) add(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	var item cartItem
	if err := readJSON(r, &item); err != nil {
		return err
	}
	if _, ok := c.data.byID[item.ProductID]; !ok || item.Quantity <= 0 || item.Quantity > 10 {
		return httpErrorf(http.StatusBadRequest, "cannot add %d of %q", item.Quantity, item.ProductID)
	}
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("product.id", item.ProductID), attribute.Int("cart.quantity", item.Quantity))
	if err := c.store.Query(r.Context(), fmt.Sprintf("HINCRBY cart:%s %s %d", user, item.ProductID, item.Quantity), 1); err != nil {
		return err
	}
	c.mu.Lock()
	c.carts[user] = append(c.carts[user], item)
	n := len(c.carts[user])
	c.mu.Unlock()
	return writeJSON(w, http.StatusOK, map[string]any{"items": n})
}

func (c *cart) get(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	c.mu.Lock()
	items := append([]cartItem(nil), c.carts[user]...)
	c.mu.Unlock()
	if err := c.store.Query(r.Context(), "HGETALL cart:"+user, len(items)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (c *cart) empty(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	if err := c.store.Query(r.Context(), "DEL cart:"+user, 1); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.carts, user)
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
