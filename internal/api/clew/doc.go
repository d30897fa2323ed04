// Package clew serves Clew's own HTTP API under /api/clew: the answers
// that Jaeger's, Tempo's and Zipkin's APIs have no shape for.
//
//   - GET /api/clew/traces/{traceID}/explain: the [analysis.Explanation]
//     of one trace (services, critical path, bottleneck, error origin,
//     abnormality against stored baselines, whom to page, a summary);
//   - GET /api/clew/traces/{traceID}/waterfall: the trace laid out for a
//     terminal or a UI, with critical-path and error marks;
//   - GET /api/clew/servicegraph and GET /api/clew/red: the service graph
//     and rate/errors/duration across traces, computed from a bounded
//     sample of recent traces.
//
// Handlers only parse parameters, call [query.Service] and the pure
// [analysis] package, and hand the result to one respond function. The
// baselines that decide whether a trace is abnormal come from
// [Baselines], which samples stored spans of an operation through the
// query layer and caches them for a minute. docs/api-clew.md documents the
// JSON.
package clew
