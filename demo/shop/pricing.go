package shop

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/rpc"
)

// pricingService is the full gRPC name of the pricing service.
const pricingService = "shop.pricing.v1.Pricing"

// pricing knows today's prices (list price minus promotions) and quotes
// carts. It is a gRPC service with a Redis-like price cache.
type pricing struct {
	*service
	data  *catalogData
	cache *db.DB
}

func newPricing(s *service, data *catalogData, seed uint64) *pricing {
	p := &pricing{
		service: s,
		data:    data,
		cache:   db.New(s.tracer, db.Options{System: "redis", Name: "prices", Server: "prices.redis.internal", Port: 6379, Latency: time.Millisecond, Seed: seed}),
	}
	rpc.Register(s.serveGRPC(), pricingService, map[string]rpc.Handler{
		"GetPrices": p.getPrices,
		"Quote":     p.quote,
	})
	return p
}

// prices returns the current price of each id, in cents.
func (p *pricing) prices(ctx context.Context, ids []string) (map[string]int, error) {
	stmt := "MGET"
	for _, id := range ids {
		stmt += " price:" + id
	}
	if err := p.cache.Query(ctx, stmt, len(ids)); err != nil {
		return nil, err
	}
	ctx, span := p.tracer.Start(ctx, "apply promotions", trace.WithAttributes(attribute.Int("pricing.items", len(ids))))
	defer span.End()
	out := make(map[string]int, len(ids))
	applied := 0
	for _, id := range ids {
		prod, ok := p.data.byID[id]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "no price for %q", id)
		}
		price := prod.PriceCents
		if prod.Category == "books" || p.rnd.chance(0.05) {
			price = price * 85 / 100
			applied++
			span.AddEvent("promotion applied", trace.WithAttributes(
				attribute.String("product.id", id), attribute.String("pricing.promotion", "SPRING15")))
		}
		out[id] = price
	}
	_ = p.work(ctx, 500*time.Microsecond)
	span.SetAttributes(attribute.Int("pricing.promotions_applied", applied))
	return out, nil
}

func (p *pricing) getPrices(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	var ids []string
	for _, v := range req.Fields["ids"].GetListValue().GetValues() {
		ids = append(ids, v.GetStringValue())
	}
	prices, err := p.prices(ctx, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(prices))
	for id, c := range prices {
		m[id] = c
	}
	return structpb.NewStruct(map[string]any{"prices": m})
}

// quote prices a cart: items is a list of {product_id, quantity}.
func (p *pricing) quote(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	items := req.Fields["items"].GetListValue().GetValues()
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.GetStructValue().GetFields()["product_id"].GetStringValue()
	}
	prices, err := p.prices(ctx, ids)
	if err != nil {
		return nil, err
	}
	subtotal := 0
	for i, it := range items {
		subtotal += prices[ids[i]] * int(it.GetStructValue().GetFields()["quantity"].GetNumberValue())
	}
	tax := subtotal * 8 / 100
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("pricing.total_cents", subtotal+tax))
	if subtotal < 0 {
		return nil, status.Error(codes.InvalidArgument, fmt.Sprintf("negative subtotal %d", subtotal))
	}
	return structpb.NewStruct(map[string]any{"subtotal_cents": subtotal, "tax_cents": tax, "total_cents": subtotal + tax})
}
