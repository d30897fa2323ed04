// Package storagetest is the conformance suite that every storage backend
// runs, and a source of realistic test data for benchmarks.
//
// A backend's test calls [Run] with a [Factory] that opens the backend on a
// directory:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t testing.TB, dir string) storage.Backend {
//			db, err := local.Open(dir, local.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		}, storagetest.Options{})
//	}
//
// The suite checks the contract written in package storage: the Jaeger
// project's storage fixtures (searches with the exact traces they must
// return), trace lookup by ID, Zipkin shared spans (two halves with one
// span ID), the semantics of every condition of a
// [storage.Query] (and FindTracesFull, for a backend that implements
// [storage.FullTraceFinder]), the catalog, service dependencies, traces whose spans
// arrive minutes apart, per-operation and per-service-edge statistics (for
// a backend that implements [storage.StatsReader]: exact counts, quantiles
// within 2%, edges whose spans arrived in different writes),
// concurrent writers and readers, restarts and read-your-writes.
//
// The search, catalog and dependency checks are scripts in testdata/*.test,
// embedded in the package so that a backend in any directory runs the same
// ones. A script loads spans and runs queries, each followed by the output
// the reference backend (storage/memstore) gives; see testdata/README.md for
// the language. `go test ./internal/storage/storagetest -update` rewrites
// the expected outputs from memstore.
//
// [GenerateTraces] makes deterministic, realistic traces (services, HTTP,
// RPC, database and messaging spans with ten attributes each, events and
// links) for benchmarks and tests in other packages, [DiffSpans]
// compares span sets field by field, and [Recorder] is an in-memory
// storage.Writer that can fail or hold writes, for testing the code that
// writes (ingest, the receivers).
//
// Like net/http/httptest, this is a test-support package: it imports
// "testing" and must only be imported from _test.go files.
package storagetest
