// Package query is the one query layer between Clew's HTTP APIs (Jaeger v1
// and v3, Zipkin, Tempo) and a storage backend.
//
// The APIs differ only in how they spell a request and render a result;
// everything they share lives here so that the same question gets the same
// answer whichever API asks it:
//
//   - validation, with errors of type [*BadRequestError] that every API
//     maps to HTTP 400, and [ErrNotFound] that they map to 404;
//   - searches with alternatives ([Search]): Jaeger and Zipkin tags such as
//     error=true name either a span attribute or a span intrinsic (the
//     status), and storage conditions only AND, so the layer runs one
//     storage query per alternative and merges the results;
//   - fetching the full traces behind a search with bounded concurrency;
//   - metrics (clew_query_duration_seconds, clew_query_errors_total),
//     labelled by the endpoint the API names with [WithEndpoint].
//
// A [Service] is safe for concurrent use.
package query
