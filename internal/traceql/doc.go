// Package traceql is the TraceQL language: a hand-written lexer and
// recursive-descent parser (precedence climbing for expressions), the
// syntax tree with positions ([Node], [Walk], [Inspect]), a printer whose
// output parses back to the same tree, the table of functions
// ([Functions]) and intrinsics, and validation with positioned errors
// ([Error]).
//
// Evaluation lives apart: package traceql/eval evaluates a tree on
// in-memory traces, and package traceql/engine plans which conditions
// storage can evaluate (storage.Condition values) and runs searches and
// metrics queries over the query layer.
//
// # Language
//
// A query is a spanset pipeline, optionally followed by a metrics
// function and second-stage functions, and hints:
//
//	{ resource.service.name = "api" && span.http.status_code >= 500 }
//	{ kind = server } >> { status = error } | count() > 2
//	{ } | by(resource.service.name) | avg(duration) > 1s | select(span.http.url)
//	{ status = error } | rate() by (resource.service.name) | topk(5) with (exemplars=true)
//
// Inside { }: intrinsics (name, status, statusMessage, kind, duration,
// childCount, rootName, rootServiceName, traceDuration and their scoped
// forms span:…, trace:…, plus span:id, span:parentID, trace:id,
// event:name, event:timeSinceStart, link:traceID, link:spanID,
// instrumentation:name, instrumentation:version, nestedSet*), attributes
// (span.x, resource.x, event.x, link.x, instrumentation.x, parent.x,
// unscoped .x, quoted names span."a b"), literals (strings, ints, floats,
// durations such as 1.5s, true, false, nil, the status and kind
// enumerations), comparisons (= != > >= < <= =~ !~), logic (&& || !) and
// arithmetic (+ - * / % ^).
//
// Precedence, loosest first: || then && then comparisons, then + -,
// then * / %, then ^ (right-associative), then unary ! and -. Between
// spansets: || then && then the structural operators (> < >> << ~ and
// their negated !> … and union &> … forms), all left-associative.
//
// # Semantics
//
// These are implemented by traceql/eval and pinned by the scripts in
// traceql/traceqltest/testdata:
//
//   - A missing attribute is nil. Every comparison with nil is false,
//     != included ({ span.x != "a" } skips spans without x); x = nil
//     tests absence and x != nil presence. A bare field ({ span.retry })
//     is true when present and not false.
//   - Values of different types are neither equal nor unequal: the string
//     "200" does not match the integer 200, with = or !=. Ints, floats
//     and durations compare by value (ints exactly).
//   - Regular expressions are RE2, fully anchored, on strings only.
//   - The unscoped .x is the span's attribute, else the resource's.
//     Bytes, arrays and maps compare as their string rendering (base64,
//     JSON), the form storage compares them in.
//   - Event and link fields in one filter must hold on one event (link)
//     of the span.
//   - Structural operators return the right-hand spans related to some
//     left-hand span; negated ones those related to none; union ones the
//     related spans of both sides. Spans whose parent is missing, or that
//     would close a parent cycle, are roots.
//   - A time range limits the spans a query sees to those that start in
//     it; the trace's root, duration and tree still come from all spans.
package traceql
