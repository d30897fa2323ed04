// Package tempo serves Grafana Tempo's HTTP query API over Clew's query
// layer and TraceQL engine, so that Grafana's Tempo data source works
// against Clew:
//
//   - GET /api/echo and /api/status/buildinfo (connection test, version);
//   - GET /api/search?q=<TraceQL>&start=&end=&limit=&spss= (and the older
//     tags=/minDuration=/maxDuration= search) with Tempo's
//     {"traces":[…],"metrics":{…}} response: matched spansets per trace;
//   - the tag endpoints /api/search/tags, /api/v2/search/tags,
//     /api/search/tag/{tag}/values and /api/v2/search/tag/{tag}/values,
//     whose q= (a query being typed) narrows the answer to spans matching
//     its complete conditions;
//   - GET /api/v2/traces/{id} ({"trace":{"resourceSpans":…},"status":…},
//     or protobuf) and GET /api/traces/{id}, which the Jaeger API owns: it
//     is Tempo's ({"batches":…} or protobuf) only when the request asks for
//     protobuf or passes format=tempo (see [API.TraceByIDMiddleware]);
//   - GET /api/metrics/query_range and /api/metrics/query for TraceQL
//     metrics queries.
//
// Times are Unix seconds (search), or seconds, milliseconds, nanoseconds
// or RFC 3339 (metrics), as in Tempo. Errors are plain text with the
// status code. Grafana's streaming search over gRPC is not served: turn
// streaming off in the data source, and Grafana uses these endpoints.
//
// The JSON shapes are hand-written structs following Tempo's protobuf
// messages as jsonpb renders them (64-bit integers as strings); the
// protobuf trace is OTLP's TracesData, which has the field numbers of
// Tempo's Trace message.
package tempo
