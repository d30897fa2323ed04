package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/clew-tracing/clew/demo/faults"
	"github.com/clew-tracing/clew/demo/shop"
	"github.com/clew-tracing/clew/internal/server"
)

// demoFlags are the shop's knobs. `clew demo` has them as --rate and
// --faults, `clew serve` as --demo-rate and --demo-faults.
type demoFlags struct {
	rate        float64
	faults      string
	environment string
}

// register adds the flags to fs, each name prefixed by prefix.
func (d *demoFlags) register(fs *flag.FlagSet, prefix string) {
	fs.Float64Var(&d.rate, prefix+"rate", 2, "demo user sessions started per second")
	fs.StringVar(&d.faults, prefix+"faults", "default",
		`demo fault scenarios: "default" (all, at low rates), "none", or a list of `+
			strings.Join(faultNames(), ", ")+` each with an optional =rate (e.g. "slow-bank=0.2,retry")`)
	fs.StringVar(&d.environment, prefix+"environment", "demo", "deployment.environment of the demo's services")
}

func faultNames() []string {
	var names []string
	for _, k := range faults.Kinds() {
		names = append(names, string(k))
	}
	return names
}

// options turns the flags into shop options.
func (d *demoFlags) options() (shop.Options, error) {
	set, err := faults.Parse(d.faults)
	if err != nil {
		return shop.Options{}, err
	}
	if d.rate <= 0 {
		return shop.Options{}, fmt.Errorf("rate %v: must be positive", d.rate)
	}
	return shop.Options{Rate: d.rate, Faults: set, Environment: d.environment}, nil
}

// demo runs `clew demo`: the demo shop alone, sending its spans to any OTLP
// backend, until ctx is cancelled.
func demo(ctx context.Context, args []string, stderr io.Writer) int {
	opts, level, err := parseDemoFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "clew demo: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts.Logger = log
	if err := shop.Run(ctx, opts); err != nil {
		log.Error("demo stopped with error", "err", err)
		return 1
	}
	return 0
}

// parseDemoFlags reads the flags of `clew demo`, which, like those of
// serve, can also come from CLEW_* variables and a YAML file.
func parseDemoFlags(args []string, stderr io.Writer) (shop.Options, slog.Level, error) {
	fs := flag.NewFlagSet("clew demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: clew demo [flags]

Runs the demo shop (a dozen traced services and their users) and sends its
spans over OTLP to any backend: Clew, Jaeger, Tempo, an OpenTelemetry
Collector. Without --otlp-endpoint the standard OTEL_EXPORTER_OTLP_*
variables apply, then localhost:4317. Stop it with Ctrl-C.

`)
		fs.PrintDefaults()
	}
	fs.String("config", "", "YAML file with flag values (keys are flag names); flags and CLEW_* environment variables override it")
	endpoint := fs.String("otlp-endpoint", "", `where to send spans: host:port or URL ("http://localhost:4318"); default from OTEL_EXPORTER_OTLP_ENDPOINT`)
	protocol := fs.String("otlp-protocol", "", "grpc or http/protobuf; default from OTEL_EXPORTER_OTLP_PROTOCOL, else grpc")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var d demoFlags
	d.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return shop.Options{}, 0, err
	}
	if fs.NArg() > 0 {
		return shop.Options{}, 0, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := applyDefaults(fs, "config"); err != nil {
		return shop.Options{}, 0, err
	}
	opts, err := d.options()
	if err != nil {
		return opts, 0, err
	}
	opts.OTLPEndpoint, opts.Protocol = *endpoint, *protocol
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return opts, 0, fmt.Errorf("log-level: %w", err)
	}
	return opts, level, opts.Validate()
}

// runWithDemo runs srv and, pointed at srv's own OTLP listener, the demo
// shop, until ctx is cancelled. The shop stops first, so that its last
// spans reach the server before the server stops. If either fails, both
// stop.
func runWithDemo(ctx context.Context, srv *server.Server, opts shop.Options, log *slog.Logger) error {
	endpoint, protocol, err := selfEndpoint(srv)
	if err != nil {
		return err
	}
	opts.OTLPEndpoint, opts.Protocol = endpoint, protocol
	opts.Logger = log.With("component", "demo")

	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	shopCtx, stopShop := context.WithCancel(ctx)
	defer stopShop()
	shopDone := make(chan error, 1)
	go func() { shopDone <- shop.Run(shopCtx, opts) }()

	var errs []error
	select {
	case <-ctx.Done():
		if err := <-shopDone; err != nil {
			errs = append(errs, fmt.Errorf("demo: %w", err))
		}
	case err := <-shopDone: // the shop failed on its own
		errs = append(errs, fmt.Errorf("demo: %w", err))
	case err := <-srvDone:
		stopShop()
		<-shopDone
		return err
	}
	stopServer()
	errs = append(errs, <-srvDone)
	return errors.Join(errs...)
}

// selfEndpoint returns the address at which the server's own OTLP
// listener (gRPC if enabled, else HTTP) can be reached from this process.
func selfEndpoint(srv *server.Server) (endpoint, protocol string, err error) {
	if a := srv.Addr("otlp-grpc"); a != "" {
		return reachable(a), "grpc", nil
	}
	if a := srv.Addr("otlp-http"); a != "" {
		return "http://" + reachable(a), "http/protobuf", nil
	}
	return "", "", errors.New("--demo needs an OTLP listener (--otlp-grpc-addr or --otlp-http-addr)")
}

// reachable turns a listener address into one to connect to: a wildcard
// host (":4317", "[::]:4317") becomes loopback.
func reachable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified() && ip.To4() != nil:
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
