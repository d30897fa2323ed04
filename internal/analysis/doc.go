// Package analysis answers the questions people ask of a trace: which
// services it passed through and what each did (self time), the critical
// path and its bottleneck, where an error originated (and which errors a
// retry recovered), whether it was slower than its operations usually
// are, and whom to page. [Explain] assembles all of it into the
// [Explanation] document that GET /api/clew/traces/{id}/explain returns;
// [NewWaterfall] lays a trace out for `clew trace`.
//
// The package is pure: functions over spans, no HTTP and no storage. The
// one thing that needs stored history, the baseline of an operation, comes
// through the small [BaselineSource] interface that the API package
// implements over the query layer. Spans are never modified: every
// correction (clock skew, a re-parented shared span) lives on the [Node]s
// of a [Tree].
//
// One file per concern: tree.go builds the span tree (shared Zipkin span
// IDs, orphans, cycles, links), skew.go corrects clock skew as Jaeger
// does, selftime.go and services.go compute self time and the trace's own
// service graph, critical.go the critical path, errors.go the error origin
// and retries, baseline.go the baseline interface and percentiles,
// owners.go ownership, summary.go the sentences, explain.go the document.
// The rules each applies are documented on its exported functions and in
// docs/api-clew.md. Everything is O(n log n) in the number of spans.
package analysis
