package shop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/queue"
)

// orders records orders, reserves their stock with inventory, and hands
// them to shipping through the shipments queue; it also answers a user's
// order history for recommendations.
type orders struct {
	*service
	db        *db.DB
	inventory *grpcClient
	shipments *queue.Queue

	mu      sync.Mutex
	seq     int
	history map[string][]string // user → product IDs bought
}

func newOrders(s *service, q *queue.Queue, seed uint64) (*orders, error) {
	inv, err := s.grpcPeer("inventory", inventoryService)
	if err != nil {
		return nil, err
	}
	o := &orders{
		service:   s,
		db:        db.New(s.tracer, db.Options{System: "postgresql", Name: "orders", Server: "orders-db.internal", Port: 5432, Latency: 2 * time.Millisecond, Seed: seed}),
		inventory: inv,
		shipments: q,
		history:   map[string][]string{},
	}
	mux := http.NewServeMux()
	s.handle(mux, "POST /orders", o.place)
	s.handle(mux, "GET /users/{user}/orders", o.list)
	s.serveHTTP(mux)
	return o, nil
}

func (o *orders) place(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req struct {
		User       string     `json:"user"`
		Items      []cartItem `json:"items"`
		TotalCents int        `json:"total_cents"`
		PaymentID  string     `json:"payment_id"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	o.mu.Lock()
	o.seq++
	id := fmt.Sprintf("ord-%06d", o.seq)
	o.mu.Unlock()
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("order.id", id))

	for _, stmt := range []string{
		"BEGIN",
		"INSERT INTO orders (id, user_id, total_cents, payment_id, status) VALUES ($1, $2, $3, $4, 'paid')",
		fmt.Sprintf("INSERT INTO order_items (order_id, product_id, quantity) VALUES %s", valuesList(len(req.Items))),
		"COMMIT",
	} {
		if err := o.db.Query(ctx, stmt, 1); err != nil {
			return err
		}
	}
	items := make([]any, len(req.Items))
	for i, it := range req.Items {
		items[i] = map[string]any{"product_id": it.ProductID, "quantity": it.Quantity}
	}
	if _, err := o.inventory.call(ctx, "Reserve", map[string]any{"order_id": id, "items": items}); err != nil {
		return httpErrorf(http.StatusBadGateway, "%v", err)
	}
	// Shipping happens later, elsewhere: hand the order over and answer.
	msg, _ := json.Marshal(shipment{OrderID: id, User: req.User, Items: req.Items})
	if err := o.shipments.Publish(ctx, o.tracer, msg); err != nil {
		return fmt.Errorf("start shipping: %w", err)
	}
	o.mu.Lock()
	for _, it := range req.Items {
		o.history[req.User] = append(o.history[req.User], it.ProductID)
	}
	o.mu.Unlock()
	return writeJSON(w, http.StatusOK, map[string]any{"order_id": id})
}

func (o *orders) list(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	o.mu.Lock()
	bought := append([]string(nil), o.history[user]...)
	o.mu.Unlock()
	if err := o.db.Query(r.Context(), "SELECT oi.product_id FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE o.user_id = $1 ORDER BY o.created_at DESC LIMIT 50", len(bought)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"products": bought})
}

// valuesList renders n rows of three placeholders for a multi-row insert.
func valuesList(n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
	}
	return s
}
