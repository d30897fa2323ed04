package traceqltest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the scripts' expected outputs from the reference evaluator")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestReference checks the scripts' expected outputs against the
// reference evaluator; with -update it rewrites them:
//
//	go test ./internal/traceql/traceqltest -run TestReference -update
func TestReference(t *testing.T) {
	out := runReference(t, Options{}.base(), !*update)
	if !*update {
		return
	}
	for name, text := range out {
		if err := os.WriteFile(filepath.Join("testdata", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
