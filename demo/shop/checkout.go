package shop

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// checkout turns a cart into an order: price it, quote shipping, charge
// the card, place the order, empty the cart.
type checkout struct {
	*service
	cart     *peer
	shipping *peer
	payment  *peer
	orders   *peer
	pricing  *grpcClient
}

func newCheckout(s *service) (*checkout, error) {
	pricing, err := s.grpcPeer("pricing", pricingService)
	if err != nil {
		return nil, err
	}
	c := &checkout{
		service:  s,
		cart:     s.httpPeer("cart"),
		shipping: s.httpPeer("shipping"),
		payment:  s.httpPeer("payment"),
		orders:   s.httpPeer("orders"),
		pricing:  pricing,
	}
	mux := http.NewServeMux()
	s.handle(mux, "POST /checkout", c.place)
	s.serveHTTP(mux)
	return c, nil
}

func (c *checkout) place(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req struct{ User string }
	if err := readJSON(r, &req); err != nil {
		return err
	}
	var cart struct{ Items []cartItem }
	if err := c.cart.do(ctx, "GET", "/carts/{user}", "/carts/"+url.PathEscape(req.User), nil, &cart); err != nil {
		return upstream(err)
	}
	if err := c.validate(ctx, cart.Items); err != nil {
		return err
	}
	items := make([]any, len(cart.Items))
	for i, it := range cart.Items {
		items[i] = map[string]any{"product_id": it.ProductID, "quantity": it.Quantity}
	}
	quote, err := c.pricing.call(ctx, "Quote", map[string]any{"items": items})
	if err != nil {
		return httpErrorf(http.StatusBadGateway, "%v", err)
	}
	var ship struct {
		CostCents int `json:"cost_cents"`
	}
	if err := c.shipping.do(ctx, "GET", "/quote", fmt.Sprintf("/quote?items=%d", len(cart.Items)), nil, &ship); err != nil {
		return upstream(err)
	}
	total := int(quote.Fields["total_cents"].GetNumberValue()) + ship.CostCents
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("order.total_cents", total), attribute.Int("order.items", len(cart.Items)))

	var paid struct {
		PaymentID string `json:"payment_id"`
	}
	if err := c.payment.do(ctx, "POST", "/charges", "/charges",
		map[string]any{"user": req.User, "amount_cents": total, "currency": "EUR"}, &paid); err != nil {
		return httpErrorf(http.StatusBadGateway, "payment failed: %v", err)
	}
	var placed struct {
		OrderID string `json:"order_id"`
	}
	if err := c.orders.do(ctx, "POST", "/orders", "/orders",
		map[string]any{"user": req.User, "items": cart.Items, "total_cents": total, "payment_id": paid.PaymentID}, &placed); err != nil {
		return upstream(err)
	}
	if err := c.cart.do(ctx, "DELETE", "/carts/{user}", "/carts/"+url.PathEscape(req.User), nil, nil); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"order_id": placed.OrderID, "total_cents": total})
}

// validate checks the cart before anything is charged.
func (c *checkout) validate(ctx context.Context, items []cartItem) error {
	_, span := c.tracer.Start(ctx, "validate cart", trace.WithAttributes(attribute.Int("cart.items", len(items))))
	defer span.End()
	if len(items) == 0 {
		span.AddEvent("empty cart")
		return httpErrorf(http.StatusBadRequest, "cart is empty")
	}
	return nil
}
