// Package eval evaluates parsed TraceQL queries on in-memory traces.
//
// [NewTrace] prepares a trace: spans in start order, linked to parents
// and children, and numbered as a nested set so that descendant and
// ancestor tests are interval containment. An [Evaluator] (from
// [Compile]) runs a query's spanset pipeline on a trace and returns its
// [Spanset]s; [Metrics] accumulates the matched spans of many traces into
// time series for the metrics functions.
//
// The package knows nothing about storage: it is the exact evaluation that
// the engine applies to candidate traces, and the reference the
// evaluation scripts are checked against. The language's semantics are
// summarised in package traceql's documentation.
package eval
