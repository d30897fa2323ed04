package clickhouse

import (
	"testing"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql/traceqltest"
)

// TestTraceQL runs the TraceQL evaluation suite (the same scripts the
// embedded engine and memstore pass) with ClickHouse underneath, so the
// conditions the planner pushes down are checked as SQL too.
func TestTraceQL(t *testing.T) {
	testDSN(t)
	traceqltest.Run(t, func(t testing.TB, dir string) storage.Backend {
		return openTest(t, dir, Options{FlushInterval: 0})
	}, traceqltest.Options{})
}
