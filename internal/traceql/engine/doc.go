// Package engine runs TraceQL searches and metrics queries over Clew's
// query layer.
//
// A query is planned first ([NewPlan]): from each spanset filter the
// planner takes the conditions a storage backend can evaluate on one span
// (equality, regular expressions and ranges on intrinsics and scoped
// attributes, existence), as storage.Condition values that an SQL backend
// translates; || inside a filter becomes a query.Search AnyOf clause. For
// A && B and structural operators, the most selective side is searched;
// for A || B, both. Storage compares more loosely than TraceQL, so the
// searches find a superset of the matching traces; the engine then fetches
// each candidate trace whole and evaluates the query exactly with package
// eval.
//
// Candidates are bounded: a search asks storage for four times the limit
// (at least 100), newest first, and grows fourfold while too few match,
// up to Options.MaxCandidates (more with the most_recent hint). When the
// bound stops it before the limit is met, the result is marked partial.
// Metrics queries fetch up to Options.MetricsMaxTraces traces spread over
// the range in up to 16 chunks and aggregate the matched spans: they are
// computed from fetched spans, not pre-aggregated, and marked partial when
// a chunk had more candidates than its share.
//
// An [Engine] is safe for concurrent use.
package engine
