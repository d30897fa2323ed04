package local_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local"
)

// Example writes a span durably, finds it, cuts the head into a block and
// reads the span back after a restart.
func Example() {
	dir, err := os.MkdirTemp("", "clew-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := local.Open(dir, local.Options{})
	if err != nil {
		log.Fatal(err)
	}
	now := uint64(time.Now().UnixNano())
	span := &model.Span{
		TraceID: model.TraceID{0xab}, SpanID: model.SpanID{1}, Name: "GET /cart", Kind: model.KindServer,
		StartUnixNano: now - uint64(time.Millisecond), EndUnixNano: now,
		Resource: &model.Resource{ServiceName: "shop"},
	}
	// Write returns once the span is in the WAL and fsynced.
	if err := db.Write(ctx, []*model.Span{span}); err != nil {
		log.Fatal(err)
	}
	found, err := db.FindTraces(ctx, &storage.Query{Conditions: []storage.Condition{
		{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("shop")},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", len(found), found[0].RootName)

	// Flush cuts the head into a block; Close then Open reopens it.
	if err := db.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	if err := db.Close(); err != nil {
		log.Fatal(err)
	}
	db, err = local.Open(dir, local.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	tr, err := db.Trace(ctx, model.TraceID{0xab}, storage.TimeRange{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after restart:", len(tr.Spans), tr.Spans[0].Service())
	// Output:
	// found: 1 GET /cart
	// after restart: 1 shop
}
