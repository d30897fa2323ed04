package query

import "context"

type endpointKey struct{}

// WithEndpoint names the API endpoint a request came through, so that the
// query layer's metrics can tell the Jaeger UI's searches from Grafana's
// Zipkin ones. Without it, metrics are labelled by the query method.
func WithEndpoint(ctx context.Context, endpoint string) context.Context {
	return context.WithValue(ctx, endpointKey{}, endpoint)
}

// endpointOf returns the endpoint set by WithEndpoint, or fallback.
func endpointOf(ctx context.Context, fallback string) string {
	if e, ok := ctx.Value(endpointKey{}).(string); ok && e != "" {
		return e
	}
	return fallback
}
