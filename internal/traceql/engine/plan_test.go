package engine_test

import (
	"testing"

	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/engine"
)

func TestPlan(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		parsed, err := traceql.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := engine.NewPlan(parsed).String(); got != want {
			t.Errorf("plan of %s\n got %s\nwant %s", q, got, want)
		}
	}
	f(`{ }`, `ALL`)
	f(`{ true }`, `ALL`)
	// Intrinsics.
	f(`{ name = "GET /" }`, `name = "GET /"`)
	f(`{ span:name =~ "GET.*" }`, `name =~ "GET.*"`)
	f(`{ status = error }`, `status = "2"`)
	f(`{ status != ok }`, `status != "1"`)
	f(`{ kind = server }`, `kind = "2"`)
	f(`{ statusMessage = "x" }`, `statusMessage = "x"`)
	f(`{ duration > 1s }`, `duration > "1000000000"`)
	f(`{ 1s < duration }`, `duration > "1000000000"`)
	f(`{ duration > 1.5 }`, `duration > "1.5"`)
	f(`{ instrumentation:name = "otelhttp" }`, `scopeName = "otelhttp"`)
	f(`{ instrumentation:version != "1" }`, `scopeVersion != "1"`)
	// Not expressible as a condition on one span: evaluated in Go only.
	f(`{ rootName = "x" }`, `ALL`)
	f(`{ traceDuration > 1s }`, `ALL`)
	f(`{ span:id = "01" }`, `ALL`)
	f(`{ event:name = "x" }`, `ALL`)
	f(`{ link:traceID = "01" }`, `ALL`)
	f(`{ childCount > 1 }`, `ALL`)
	f(`{ name = nil }`, `ALL`)
	f(`{ status = nil }`, `ALL`)
	// Attributes by scope; the service is its own field.
	f(`{ span.a = "x" }`, `span.a = "x"`)
	f(`{ .a = 1 }`, `.a = "1"`)
	f(`{ resource.a >= 1.5 }`, `resource.a >= "1.5"`)
	f(`{ event.a = true }`, `event.a = "true"`)
	f(`{ link.a != "x" }`, `link.a != "x"`)
	f(`{ instrumentation.a =~ "x" }`, `instrumentation.a =~ "x"`)
	f(`{ resource.service.name = "shop" }`, `service = "shop"`)
	f(`{ resource.service.name =~ "s.*" }`, `service =~ "s.*"`)
	f(`{ resource.service.name = 1 }`, `resource.service.name = "1"`)
	f(`{ .service.name = "shop" }`, `.service.name = "shop"`)
	f(`{ parent.a = 1 }`, `ALL`)
	f(`{ span.a = error }`, `ALL`)
	f(`{ span.a > 9007199254740992 }`, `ALL`)
	f(`{ span.a = 9007199254740993 }`, `span.a = "9007199254740993"`)
	// nil and existence.
	f(`{ span.a != nil }`, `span.a exists`)
	f(`{ span.a = nil }`, `span.a not exists`)
	f(`{ .a = nil }`, `span.a not exists AND resource.a not exists`)
	f(`{ .a != nil }`, `.a exists`)
	f(`{ event.a = nil }`, `ALL`)
	f(`{ span.a }`, `span.a exists`)
	f(`{ !span.a }`, `ALL`)
	// Conjunctions and disjunctions.
	f(`{ name = "x" && span.a = 1 && !(span.b = 2) }`, `name = "x" AND span.a = "1"`)
	f(`{ name = "x" || name = "y" }`, `ANY(name = "x", name = "y")`)
	f(`{ (name = "x" && span.a > 1) || status = error }`, `ANY(name = "x", status = "2")`)
	f(`{ name = "x" || rootName = "y" }`, `ALL`)
	f(`{ kind = server && (span.a = 1 || span.b = 2) }`, `kind = "2" AND ANY(span.a = "1", span.b = "2")`)
	f(`{ (name = "a" || name = "b") && (kind = server || kind = client) && (span.a = 1 || span.b = 1 || span.c = 1) }`,
		`ANY(name = "a", name = "b") AND ANY(kind = "2", kind = "3") AND ANY(span.a = "1", span.b = "1", span.c = "1")`)
	f(`{ (name = "a" || name = "b" || name = "c" || name = "d") && (kind = server || kind = client || kind = consumer || kind = producer) && (span.a = 1 || span.b = 1) }`,
		`ANY(name = "a", name = "b", name = "c", name = "d") AND ANY(kind = "2", kind = "3", kind = "5", kind = "4")`)
	f(`{ span.a + 1 = 2 }`, `ALL`)
	f(`{ span.a = span.b }`, `ALL`)
	// Spanset operators: the most selective side of && and structure,
	// both sides of ||, the right side of negated structure.
	f(`{ kind = server } && { name = "x" }`, `name = "x"`)
	f(`{ name = "x" } > { status = error }`, `name = "x"`)
	f(`{ status = error } >> { span.a = "x" && kind = client }`, `span.a = "x" AND kind = "3"`)
	f(`{ name = "x" } || { span.a = 1 }`, `name = "x" UNION span.a = "1"`)
	f(`{ name = "x" } || { }`, `ALL`)
	f(`{ name = "x" } !> { kind = client }`, `kind = "3"`)
	f(`{ name = "x" } &>> { }`, `name = "x"`)
	f(`({ name = "x" } || { name = "y" }) && { span.a = 1 && span.b = 2 }`, `span.a = "1" AND span.b = "2"`)
	f(`({ name = "x" } || { name = "y" }) && { kind = server }`, `name = "x" UNION name = "y"`)
	// Pipelines: the first stage decides.
	f(`{ name = "x" } | count() > 2 | by(span.a)`, `name = "x"`)
	f(`({ name = "x" } | count() > 1) && { }`, `name = "x"`)
	f(`{ } | { name = "x" }`, `ALL`)
	f(`{ name = "x" } | rate() by (span.a)`, `name = "x"`)
}
