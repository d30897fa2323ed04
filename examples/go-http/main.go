// Command go-http is the smallest useful traced Go service: net/http with
// otelhttp, one custom span, and the OTLP exporter sending to Clew.
//
//	go run ./cmd/clew serve                        # Clew, OTLP/HTTP on :4318
//	go run ./examples/go-http                      # this service on :8080
//	curl localhost:8080/fibonacci/10               # a traced request
//
// The exporter honours the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT
// (default http://localhost:4318), OTEL_SERVICE_NAME (default
// fibonacci-go), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	slog.Info("listening", "addr", "http://"+lis.Addr().String())
	if err := run(ctx, lis); err != nil {
		slog.Error("stopped", "err", err)
		os.Exit(1)
	}
}

// run serves on lis until ctx is done, then flushes the spans.
func run(ctx context.Context, lis net.Listener) (err error) {
	tp, err := newTracerProvider(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// Flush what the batcher still holds; give it a few seconds.
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, tp.Shutdown(shutCtx))
	}()

	srv := &http.Server{Handler: newHandler(tp), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// newTracerProvider exports over OTLP/HTTP, configured by the OTEL_*
// variables, with this service's name unless OTEL_SERVICE_NAME says
// otherwise.
func newTracerProvider(ctx context.Context) (*sdktrace.TracerProvider, error) {
	var opts []otlptracehttp.Option
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		// The SDK's default endpoint is https://localhost:4318; a local
		// Clew speaks plain HTTP.
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "fibonacci-go"), attribute.String("service.version", "1.0.0")),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// newHandler serves /fibonacci/{n}. otelhttp makes a server span for each
// request, named by its route, continuing the caller's trace (W3C
// traceparent).
func newHandler(tp trace.TracerProvider) http.Handler {
	tracer := tp.Tracer("github.com/clew-tracing/clew/examples/go-http")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fibonacci/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > 90 {
			http.Error(w, "n must be an integer from 0 to 90", http.StatusBadRequest)
			return
		}
		result := fibonacci(r.Context(), tracer, n)
		fmt.Fprintf(w, "{\"n\":%d,\"result\":%d}\n", n, result)
	})
	return otelhttp.NewHandler(mux, "fibonacci-go",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	)
}

// fibonacci computes the n-th Fibonacci number in a custom span, a child
// of the request's span, with the input and the result as attributes.
func fibonacci(ctx context.Context, tracer trace.Tracer, n int) int {
	_, span := tracer.Start(ctx, "fibonacci", trace.WithAttributes(attribute.Int("fibonacci.input", n)))
	defer span.End()
	a, b := 0, 1
	for range n {
		a, b = b, a+b
	}
	if a < 0 { // overflow; cannot happen for n <= 90
		span.SetStatus(codes.Error, "overflow")
	}
	span.SetAttributes(attribute.Int("fibonacci.result", a))
	return a
}
