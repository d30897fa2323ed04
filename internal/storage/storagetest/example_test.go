package storagetest_test

import (
	"fmt"
	"time"

	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

func ExampleGenerateTraces() {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spans := storagetest.GenerateTraces(1, 100, 10, start)
	root := spans[0]
	fmt.Println(len(spans), "spans")
	fmt.Println("root:", root.Service(), root.Kind, len(root.Attributes), "attributes")
	// Output:
	// 1000 spans
	// root: frontend server 10 attributes
}

func ExampleDiffSpans() {
	want := storagetest.GenerateTraces(1, 2, 3, time.Unix(1_800_000_000, 0))
	got := storagetest.GenerateTraces(1, 2, 3, time.Unix(1_800_000_000, 0))
	fmt.Printf("equal: %q\n", storagetest.DiffSpans(want, got))
	fmt.Println(storagetest.DiffSpans(want, got[1:]) != "")
	// Output:
	// equal: ""
	// true
}
