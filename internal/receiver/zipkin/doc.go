// Package zipkin receives spans from Zipkin clients on Zipkin's own API,
// POST /api/v2/spans (JSON or protobuf) and POST /api/v1/spans (JSON), and
// hands them to an [ingest.Ingester].
//
// Spans are decoded with the OpenTelemetry collector's Zipkin translator
// into OTLP and then converted like OTLP spans, so a Zipkin span and an
// OTLP span of the same operation are stored alike. A 64-bit Zipkin trace
// ID lands in the low eight bytes of the 16-byte trace ID, as W3C and B3
// propagation expect.
//
// Zipkin has no partial-success answer. One bad span does not cost its
// neighbours: spans that cannot be decoded or fail Ingester.Check are
// counted, logged and dropped, the rest are stored and the answer is 202
// Accepted. Only when a request has spans and none can be kept is the
// answer 400, with a message naming what was wrong.
package zipkin
