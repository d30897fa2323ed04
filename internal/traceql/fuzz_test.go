package traceql_test

import (
	"os"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/traceql"
)

// FuzzParse checks that no input panics the parser, that every error is an
// *Error positioned inside the input, and that every query that parses
// prints back to an equal tree. The seeds are the conformance queries.
//
//	go test ./internal/traceql -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(conformanceFile)
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && l != "----" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "valid:") && !strings.Contains(l, "error at") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := traceql.Parse(src)
		if err != nil {
			e, ok := traceql.AsError(err)
			if !ok {
				t.Fatalf("Parse(%q) returned %T, not *traceql.Error: %v", src, err, err)
			}
			if e.Range.Start < 0 || int(e.Range.Start) > len(src) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("Parse(%q): error %v has a bad position %+v", src, err, e.Range)
			}
			return
		}
		checkRoundTrip(t, "fuzz", src, q)
	})
}
