package clickhouse

import (
	"testing"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// TestConformance runs the storage conformance suite, Jaeger fixtures
// included, against a real ClickHouse server. Every directory the suite
// asks for becomes its own database.
func TestConformance(t *testing.T) {
	testDSN(t)
	storagetest.Run(t, func(t testing.TB, dir string) storage.Backend {
		return openTest(t, dir, Options{FlushInterval: 0})
	}, storagetest.Options{SkipSlow: testing.Short()})
}
