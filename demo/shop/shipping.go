package shop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/queue"
)

// shipping quotes delivery for the catalog and checkout, and ships orders
// it receives from the shipments queue.
type shipping struct {
	*service
	rates     *db.DB
	shipments *db.DB
	queue     *queue.Queue
}

func newShipping(s *service, q *queue.Queue, seed uint64) *shipping {
	sh := &shipping{
		service:   s,
		rates:     db.New(s.tracer, db.Options{System: "redis", Name: "rates", Server: "rates.redis.internal", Port: 6379, Latency: time.Millisecond, Seed: seed}),
		shipments: db.New(s.tracer, db.Options{System: "postgresql", Name: "shipping", Server: "shipping-db.internal", Port: 5432, Latency: 3 * time.Millisecond, Seed: seed + 1}),
		queue:     q,
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET /quote", sh.quote)
	s.serveHTTP(mux)
	return sh
}

// carriers returns the carrier and days for a number of items.
func carrier(items int) (string, int) {
	if items > 3 {
		return "freight-co", 5
	}
	return "parcel-express", 2
}

func (sh *shipping) quote(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	items, _ := strconv.Atoi(r.URL.Query().Get("items"))
	if items <= 0 {
		items = 1
	}
	if err := sh.rates.Query(ctx, "HGET rates:zone-2 parcel", 1); err != nil {
		return err
	}
	_, span := sh.tracer.Start(ctx, "compute rate")
	name, days := carrier(items)
	cost := 499 + 150*(items-1)
	span.SetAttributes(attribute.String("shipping.carrier", name), attribute.Int("shipping.items", items),
		attribute.Int("shipping.cost_cents", cost), attribute.Int("shipping.days", days))
	span.End()
	return writeJSON(w, http.StatusOK, map[string]any{"carrier": name, "cost_cents": cost, "days": days})
}

// shipment is what orders publishes to the shipments queue.
type shipment struct {
	OrderID string     `json:"order_id"`
	User    string     `json:"user"`
	Items   []cartItem `json:"items"`
}

// consume ships every order from the queue until it is closed and drained.
// Each message is handled in its own trace, linked to the order's.
func (sh *shipping) consume(ctx context.Context) {
	sh.queue.Consume(ctx, sh.tracer, sh.ship)
}

// ship books a carrier for one order: a short pause as a broker's delivery
// would take, a row in the shipments table, a label.
func (sh *shipping) ship(ctx context.Context, msg queue.Message) error {
	var s shipment
	if err := json.Unmarshal(msg.Body, &s); err != nil {
		return fmt.Errorf("bad shipment message %s: %w", msg.ID, err)
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("order.id", s.OrderID))
	if err := sh.work(ctx, 3*time.Millisecond); err != nil {
		return err
	}
	if err := sh.shipments.Query(ctx, "INSERT INTO shipments (order_id, carrier, status) VALUES ($1, $2, 'booked')", 1); err != nil {
		return err
	}
	_, span := sh.tracer.Start(ctx, "book carrier")
	defer span.End()
	name, days := carrier(len(s.Items))
	span.SetAttributes(attribute.String("shipping.carrier", name), attribute.Int("shipping.days", days),
		attribute.String("order.id", s.OrderID))
	span.AddEvent("label printed", trace.WithAttributes(attribute.String("shipping.tracking", "TRK"+s.OrderID)))
	return nil
}
