// Package zipkin serves Zipkin's query API v2 (/api/v2/…) over Clew's
// query layer, so that Zipkin Lens and Grafana's Zipkin data source work
// against Clew. It is mounted on the Zipkin port beside the Zipkin
// receiver.
//
// Spans are rendered as Zipkin v2 JSON following the OpenTelemetry
// Collector's OTLP-to-Zipkin mapping, the inverse of what the Zipkin
// receiver stores: the remote endpoint comes from the peer-service and
// network peer attributes, the status becomes the error and
// otel.status_code tags, events become annotations and resource
// attributes become tags.
//
// Errors are plain text with the HTTP status, as Zipkin's server answers.
package zipkin
