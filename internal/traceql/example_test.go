package traceql_test

import (
	"fmt"

	"github.com/clew-tracing/clew/internal/traceql"
)

// Example parses a query, prints it back and walks its attributes.
func Example() {
	q, err := traceql.Parse(`{resource.service.name="shop"&&span.http.status_code>=500} >> {status=error} | count()>1`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	traceql.Inspect(q, func(n traceql.Node) bool {
		if a, ok := n.(*traceql.Attribute); ok {
			fmt.Println("attribute:", a.Scope, a.Name)
		}
		return true
	})

	_, err = traceql.Parse(`{ span.http.status_code >= }`)
	fmt.Println(err)
	// Output:
	// { resource.service.name = "shop" && span.http.status_code >= 500 } >> { status = error } | count() > 1
	// attribute: resource service.name
	// attribute: span http.status_code
	// syntax error at 1:28: unexpected "}"; expected an attribute, an intrinsic, a value or "("
}
