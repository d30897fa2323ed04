package engine_test

import (
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/traceql/traceqltest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeBenchData()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestScriptsMemstore runs the evaluation scripts through the engine over
// the reference backend.
func TestScriptsMemstore(t *testing.T) {
	traceqltest.Run(t, func(testing.TB, string) storage.Backend { return memstore.New() }, traceqltest.Options{})
}

// TestScriptsLocal runs them over the embedded engine, once with the spans
// in its head and once cut into blocks.
func TestScriptsLocal(t *testing.T) {
	traceqltest.Run(t, func(t testing.TB, dir string) storage.Backend {
		db, err := local.Open(dir, local.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}, traceqltest.Options{})
}
