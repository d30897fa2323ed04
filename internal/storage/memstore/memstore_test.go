package memstore_test

import (
	"testing"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestConformance runs the storage conformance suite. memstore keeps
// nothing across Close, so the restart test is skipped.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(testing.TB, string) storage.Backend {
		return memstore.New()
	}, storagetest.Options{Ephemeral: true})
}
