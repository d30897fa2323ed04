// Package jaeger serves the Jaeger query APIs over Clew's query layer, so
// that the Jaeger UI and Grafana's Jaeger data source work against Clew
// unchanged:
//
//   - v1, the internal JSON API under /api (services, operations, trace
//     search and multi-get, trace by ID, dependencies) with its
//     {"data","total","limit","offset","errors"} envelope and the UI trace
//     model (spans with tags, logs and references; processes);
//   - the Monitor tab's metrics, /api/metrics/{calls,errors,latencies} and
//     /api/metrics/minstep, as OpenMetrics MetricFamily JSON computed from
//     the backend's per-minute operation statistics ([storage.StatsReader]);
//   - api_v3 under /api/v3, whose traces are OTLP JSON wrapped in
//     {"result": …} and whose errors are {"error": {"httpCode","message"}}.
//
// Spans are rendered following the OpenTelemetry-to-Jaeger mapping: the
// parent becomes a CHILD_OF reference and links FOLLOWS_FROM ones; kind,
// status and instrumentation scope become span.kind, otel.status_code,
// error, otel.status_description and otel.scope.* tags; event names become
// the "event" log field; resource attributes other than service.name
// become process tags.
//
// Handlers only parse parameters, call [query.Service] and hand the result
// to one respond function per API version.
package jaeger
