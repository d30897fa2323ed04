package wal_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/clew-tracing/clew/internal/storage/local/wal"
)

// Example shows the life of a write-ahead log across a restart.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range []string{"first batch", "second batch"} {
		if err := l.Append(ctx, []byte(rec)); err != nil {
			log.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	// After a restart, replay before appending.
	l, err = wal.Open(dir, wal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	err = l.Replay(ctx, func(rec []byte) error {
		fmt.Println(string(rec))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// first batch
	// second batch
}
