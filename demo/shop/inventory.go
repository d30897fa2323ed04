package shop

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/rpc"
)

// inventoryService is the full gRPC name of the inventory service.
const inventoryService = "shop.inventory.v1.Inventory"

// inventory answers stock levels for the catalog and reserves stock for
// orders, on a PostgreSQL-like database.
type inventory struct {
	*service
	db *db.DB
}

func newInventory(s *service, seed uint64) *inventory {
	inv := &inventory{
		service: s,
		db:      db.New(s.tracer, db.Options{System: "postgresql", Name: "inventory", Server: "inventory-db.internal", Port: 5432, Latency: 2 * time.Millisecond, Seed: seed}),
	}
	rpc.Register(s.serveGRPC(), inventoryService, map[string]rpc.Handler{
		"Availability": inv.availability,
		"Reserve":      inv.reserve,
	})
	return inv
}

func (inv *inventory) availability(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	ids := req.Fields["ids"].GetListValue().GetValues()
	if err := inv.db.Query(ctx, "SELECT product_id, on_hand - reserved FROM stock WHERE product_id = ANY($1)", len(ids)); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, v := range ids {
		id := v.GetStringValue()
		out[id] = 3 + len(id)*7%40
	}
	return structpb.NewStruct(map[string]any{"available": out})
}

// reserve takes stock for an order's items in one transaction.
func (inv *inventory) reserve(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	order := req.Fields["order_id"].GetStringValue()
	items := req.Fields["items"].GetListValue().GetValues()
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("order.id", order), attribute.Int("order.items", len(items)))
	if err := inv.db.Query(ctx, "BEGIN", 0); err != nil {
		return nil, err
	}
	for range items {
		if err := inv.db.Query(ctx, "UPDATE stock SET reserved = reserved + $2 WHERE product_id = $1 AND on_hand - reserved >= $2", 1); err != nil {
			return nil, err
		}
	}
	if err := inv.db.Query(ctx, "INSERT INTO reservations (order_id, created_at) VALUES ($1, now())", 1); err != nil {
		return nil, err
	}
	if err := inv.db.Query(ctx, "COMMIT", 0); err != nil {
		return nil, err
	}
	return structpb.NewStruct(map[string]any{"reserved": len(items)})
}
