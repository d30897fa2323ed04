package shop

import (
	"context"
	"net/url"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/clew-tracing/clew/demo/db"
	"github.com/clew-tracing/clew/demo/rpc"
)

// recommendationService is the full gRPC name of the recommendation
// service.
const recommendationService = "shop.recommendation.v1.Recommendation"

// recommendation suggests products from what the user bought before (asked
// of orders) and a feature store.
type recommendation struct {
	*service
	data     *catalogData
	features *db.DB
	orders   *peer
}

func newRecommendation(s *service, data *catalogData, seed uint64) *recommendation {
	rec := &recommendation{
		service:  s,
		data:     data,
		features: db.New(s.tracer, db.Options{System: "redis", Name: "features", Server: "features.redis.internal", Port: 6379, Latency: 2 * time.Millisecond, Seed: seed}),
		orders:   s.httpPeer("orders"),
	}
	rpc.Register(s.serveGRPC(), recommendationService, map[string]rpc.Handler{
		"Recommend": rec.recommend,
	})
	return rec
}

func (rec *recommendation) recommend(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	user := req.Fields["user"].GetStringValue()
	limit := int(req.Fields["limit"].GetNumberValue())
	if user == "" || limit <= 0 {
		return nil, status.Error(codes.InvalidArgument, "user and a positive limit are required")
	}
	var history struct {
		Products []string `json:"products"`
	}
	if err := rec.orders.do(ctx, "GET", "/users/{user}/orders", "/users/"+url.PathEscape(user)+"/orders", nil, &history); err != nil {
		return nil, status.Errorf(codes.Unavailable, "order history: %v", err)
	}
	if err := rec.features.Query(ctx, "HGETALL features:user:"+user, 16); err != nil {
		return nil, err
	}
	ids := rec.score(ctx, history.Products, limit)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return structpb.NewStruct(map[string]any{"products": out})
}

// score picks products from the categories the user bought from (any
// category for a new user) that the user does not have yet.
func (rec *recommendation) score(ctx context.Context, bought []string, limit int) []string {
	ctx, span := rec.tracer.Start(ctx, "score candidates", trace.WithAttributes(
		attribute.String("recommendation.model", "item-knn-v3"),
		attribute.Int("recommendation.history", len(bought))))
	defer span.End()
	categories := map[string]bool{}
	for _, id := range bought {
		categories[rec.data.byID[id].Category] = true
	}
	if len(categories) == 0 {
		span.AddEvent("cold start: no purchase history")
	}
	var candidates []string
	for _, p := range rec.data.products {
		if (len(categories) == 0 || categories[p.Category]) && !slices.Contains(bought, p.ID) {
			candidates = append(candidates, p.ID)
		}
	}
	_ = rec.work(ctx, 3*time.Millisecond)
	span.SetAttributes(attribute.Int("recommendation.candidates", len(candidates)))
	var out []string
	for len(out) < limit && len(candidates) > 0 {
		i := rec.rnd.intn(len(candidates))
		out = append(out, candidates[i])
		candidates = slices.Delete(candidates, i, i+1)
	}
	return out
}
