package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/clew-tracing/clew/internal/storage/clickhouse"
)

const clickhouseUsage = `Usage:
  clew clickhouse schema [flags]   print the DDL that --storage=clickhouse creates, for DBAs

Run "clew clickhouse schema -h" for its flags.
`

// clickhouseCmd runs `clew clickhouse ...`.
func clickhouseCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "schema" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, clickhouseUsage)
			return 0
		}
		fmt.Fprint(stderr, clickhouseUsage)
		return 2
	}
	fs := flag.NewFlagSet("clew clickhouse schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse-dsn", "", "ask this server for its version and print the DDL for it")
	version := fs.String("server-version", "", `print the DDL for this ClickHouse version (e.g. 18.16 or 24.8); default: the server's with --clickhouse-dsn, else 18.16`)
	var o clickhouse.SchemaOptions
	fs.StringVar(&o.Database, "clickhouse-database", clickhouse.DefaultDatabase, "database for Clew's tables")
	fs.StringVar(&o.Cluster, "clickhouse-cluster", "", "cluster name: DDL ON CLUSTER, replicated tables, Distributed tables on top")
	fs.StringVar(&o.ReplicaPath, "clickhouse-replica-path", clickhouse.DefaultReplicaPath, "ZooKeeper path prefix of replicated tables ({shard} is the server's macro)")
	fs.DurationVar(&o.Retention, "retention", 7*24*time.Hour, "retention; a TTL on servers that have TTL (Clew also drops old day partitions itself)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case *version != "":
		d, err := clickhouse.DialectFor(*version)
		if err != nil {
			fmt.Fprintf(stderr, "clew clickhouse schema: %v\n", err)
			return 2
		}
		o.Dialect = d
	case *dsn != "":
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		d, err := clickhouse.ServerDialect(cctx, *dsn)
		if err != nil {
			fmt.Fprintf(stderr, "clew clickhouse schema: %v\n", err)
			return 1
		}
		o.Dialect = d
	default:
		o.Dialect, _ = clickhouse.DialectFor("18.16")
	}
	s, err := clickhouse.Schema(o)
	if err != nil {
		fmt.Fprintf(stderr, "clew clickhouse schema: %v\n", err)
		return 2
	}
	fmt.Fprint(stdout, s)
	return 0
}
