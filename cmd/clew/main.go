// Command clew is Clew's one binary: `clew serve` runs the tracing backend,
// `clew version` prints the build.
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
  clew version          print the version

Run "clew serve -h" for the flags of serve.
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
