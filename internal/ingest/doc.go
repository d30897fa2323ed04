// Package ingest is the one path from Clew's receivers to storage.
//
// Every receiver (OTLP over gRPC and HTTP, Zipkin v1 and v2) does the same
// three things around its own decoding, and this package owns them so that
// the protocols cannot drift apart:
//
//   - [Ingester.Acquire] bounds the bytes of requests being decoded and
//     written at once. Past the bound a request is refused with
//     [ErrOverloaded] at once rather than queued, so a burst of clients
//     cannot run the process out of memory; the receiver answers with a
//     retryable status and the client backs off.
//   - [Ingester.Check] decides span by span whether a span may be stored
//     (model.Validate, retention, size limits), so that one bad span costs
//     only itself and the rest of its request is kept.
//   - [Ingester.Consume] writes a [Batch] to storage, returning only once
//     the spans are durable, and counts what was received, accepted and
//     rejected.
//
// Metrics (registered on Options.Registerer):
//
//	clew_receiver_spans_received_total{protocol}
//	clew_receiver_spans_accepted_total{protocol}
//	clew_receiver_spans_rejected_total{protocol,reason}
//	clew_receiver_request_bytes_total{protocol}
//	clew_ingest_latency_seconds
//	clew_ingest_inflight_bytes
//	clew_ingest_overloaded_total
//	clew_ingest_attribute_values_truncated_total
package ingest
