package traceql_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// update rewrites the expected outputs of the testdata scripts.
var update = flag.Bool("update", false, "rewrite testdata expectations")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
