// Command clew is Clew's one binary: `clew serve` runs the tracing backend
// (with --demo, and the demo shop beside it), `clew demo` runs only the
// demo shop against any OTLP backend, `clew version` prints the build.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Clew: a distributed tracing backend.

Usage:
  clew serve [flags]    receive spans (OTLP, Zipkin), store them, serve the UI and query APIs
                        (--demo: also run the demo shop, sending its spans here)
  clew demo [flags]     run the demo shop: traced services and their users, exporting over OTLP
  clew explain <trace-id> [flags]
                        ask a running server why a trace took as long as it did, where it failed, whom to page
  clew trace <trace-id> [flags]
                        print a trace as a terminal waterfall with its critical path and errors
  clew clickhouse schema [flags]
                        print the ClickHouse DDL of --storage=clickhouse, for DBAs
  clew version          print the version

Run "clew serve -h" or "clew demo -h" for their flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "demo":
		return demo(ctx, args[1:], stderr)
	case "explain":
		return explain(ctx, args[1:], stdout, stderr)
	case "trace":
		return trace(ctx, args[1:], stdout, stderr)
	case "clickhouse":
		return clickhouseCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "clew %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "clew: unknown command %q\n\n%s", args[0], usage)
	return 2
}
