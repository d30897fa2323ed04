package traceql_test

import (
	"testing"

	"github.com/clew-tracing/clew/internal/traceql"
)

func TestParseLenientFilter(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		got := "<nil>"
		if e := traceql.ParseLenientFilter(q); e != nil {
			got = e.String()
		}
		if got != want {
			t.Errorf("ParseLenientFilter(%q) = %s, want %s", q, got, want)
		}
	}
	f(`{ resource.service.name = "api" }`, `resource.service.name = "api"`)
	f(`{ resource.service.name = "api" && span.http.method = }`, `resource.service.name = "api"`)
	f(`{ resource.service.name="api" && span.http.method= && status=error`, `resource.service.name = "api" && status = error`)
	f(`{ .a = 1 || .b =~ "x.*" } | count() >`, `.a = 1 && .b =~ "x.*"`)
	f(`{ name = 1 && kind = server }`, `kind = server`)
	f(`{ .a = "unterminated`, `<nil>`)
	f(`{ }`, `<nil>`)
	f(``, `<nil>`)
	f(`{ .x != nil && duration > 1s }`, `.x != nil && duration > 1s`)
}

func TestParseField(t *testing.T) {
	for in, want := range map[string]string{
		"resource.service.name": "resource.service.name",
		`span."a b"`:            `span."a b"`,
		".x":                    ".x",
		"name":                  "name",
		"span:status":           "span:status",
		"trace:rootService":     "trace:rootService",
	} {
		e, err := traceql.ParseField(in)
		if err != nil || e.String() != want {
			t.Errorf("ParseField(%q) = %v, %v; want %s", in, e, err, want)
		}
	}
	for _, in := range []string{"", "1", "foo", "span.a = 1", "span:nope", "{ }", `"x"`, "true"} {
		if e, err := traceql.ParseField(in); err == nil {
			t.Errorf("ParseField(%q) = %v, want an error", in, e)
		}
	}
}
