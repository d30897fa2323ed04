// Package storage defines the contract between Clew's query layer and its
// storage backends (the embedded engine in storage/local, ClickHouse in
// storage/clickhouse).
//
// A backend stores [model.Span] values and answers four kinds of question:
// a trace by ID, traces whose spans match a [Query], the catalog of services,
// operations and attributes, and service dependencies. Queries are plain
// data ([Condition] values, not closures) so that an SQL backend can
// translate them; [Matcher] is the one Go evaluation of those conditions,
// shared by every backend that filters in Go.
//
// Every backend must pass the conformance suite in storage/storagetest.
package storage
