package traceql_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/traceql"
)

// conformanceFile lists query strings, each followed by "----" and what
// Parse makes of it: "valid: <printed query>", or the error. Regenerate
// with -update and read the diff.
const conformanceFile = "testdata/queries.test"

// classify renders the outcome of parsing q as one line.
func classify(q string) string {
	parsed, err := traceql.Parse(q)
	if err != nil {
		return err.Error()
	}
	return "valid: " + parsed.String()
}

type confCase struct {
	line  int
	query string
	want  string
}

// readConformance splits the file into cases: a query line, optionally
// "----" and one result line, separated by blank lines; lines starting
// with "#" are comments.
func readConformance(t *testing.T) ([]confCase, []string) {
	t.Helper()
	b, err := os.ReadFile(conformanceFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var cases []confCase
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := confCase{line: i + 1, query: l}
		if i+2 < len(lines)+1 && i+1 < len(lines) && lines[i+1] == "----" {
			if i+2 < len(lines) {
				c.want = lines[i+2]
			}
			i += 2
		}
		cases = append(cases, c)
	}
	return cases, lines
}

func TestConformance(t *testing.T) {
	cases, _ := readConformance(t)
	counts := map[string]int{}
	var out strings.Builder
	b, _ := os.ReadFile(conformanceFile)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	next := 0 // index into cases while rewriting
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			out.WriteString(l + "\n")
			continue
		}
		c := cases[next]
		next++
		got := classify(c.query)
		kind, _, _ := strings.Cut(got, ":")
		if strings.HasPrefix(got, "syntax error") {
			kind = "syntax error"
		} else if strings.HasPrefix(got, "validation error") {
			kind = "validation error"
		} else if strings.HasPrefix(got, "unsupported") {
			kind = "unsupported"
		}
		counts[kind]++
		if !*update && got != c.want {
			t.Errorf("%s:%d: %s\n got: %s\nwant: %s", conformanceFile, c.line, c.query, got, c.want)
		}
		out.WriteString(l + "\n----\n" + got + "\n")
		if i+1 < len(lines) && lines[i+1] == "----" {
			i += 2
		}
		if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			out.WriteString("\n") // a blank line between cases
		}
	}
	if *update {
		if err := os.WriteFile(conformanceFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("conformance: %v", counts)
	for _, k := range []string{"valid", "syntax error", "validation error"} {
		if counts[k] < 50 {
			t.Errorf("only %d %s cases; the file should cover each class well", counts[k], k)
		}
	}
}

// TestConformanceRoundTrip prints every valid query, parses the print
// and checks that the trees are equal and the print is a fixed point.
func TestConformanceRoundTrip(t *testing.T) {
	cases, _ := readConformance(t)
	n := 0
	for _, c := range cases {
		q, err := traceql.Parse(c.query)
		if err != nil {
			continue
		}
		n++
		checkRoundTrip(t, fmt.Sprintf("%s:%d", conformanceFile, c.line), c.query, q)
	}
	if n == 0 {
		t.Fatal("no valid queries")
	}
}

func checkRoundTrip(t *testing.T, where, src string, q *traceql.Query) {
	t.Helper()
	printed := q.String()
	q2, err := traceql.Parse(printed)
	if err != nil {
		t.Errorf("%s: %s\nprints as %s\nwhich does not parse: %v", where, src, printed, err)
		return
	}
	if p2 := q2.String(); p2 != printed {
		t.Errorf("%s: %s\nprints as %s\nthen as   %s", where, src, printed, p2)
	}
	if !reflect.DeepEqual(stripPositions(q), stripPositions(q2)) {
		t.Errorf("%s: %s\nprints as %s\nwhich parses to a different tree", where, src, printed)
	}
	checkPositions(t, where, src, q)
}
