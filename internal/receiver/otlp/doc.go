// Package otlp receives OpenTelemetry traces over OTLP/gRPC and OTLP/HTTP
// (protobuf and JSON) and hands them to an [ingest.Ingester].
//
// Both transports share one path: decode the ExportTraceServiceRequest,
// convert it with otlp.FromTraces using Ingester.Check, so that invalid
// spans are refused one by one, and write the rest with Ingester.Consume.
// Refused spans are reported in the response's partial_success, as the
// OTLP specification asks; the status codes are the ones it lists
// (InvalidArgument / 400 for data that cannot be decoded, ResourceExhausted
// / 429 with a retry delay on overload, Unavailable / 503 when storage
// fails).
//
// Mounting:
//
//	r, err := otlp.New(ingester, otlp.Options{})
//	gs := otlp.NewGRPCServer(0)  // or any *grpc.Server
//	r.Register(gs)               // port 4317
//	r.RegisterHTTP(mux)          // port 4318: POST /v1/traces
package otlp
