// Package model defines Clew's in-memory span: the one shape every part of
// the pipeline (receivers, ingest, storage, query, analysis) agrees on.
//
// A Span is flat: it carries its resource and instrumentation scope by
// pointer, so that many spans of one batch share them without copying. The
// type is deliberately plain data with no behaviour beyond small accessors,
// so that a columnar block, a WAL record and a ClickHouse row can all be
// produced from it without reflection.
//
// Conversions to and from OTLP (pdata) live in [github.com/clew-tracing/clew/internal/model/otlp].
package model
