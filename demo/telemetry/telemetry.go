// Package telemetry sets up the OpenTelemetry SDK for the demo shop: one
// OTLP exporter configured from explicit options and the standard OTEL_*
// environment variables, and one TracerProvider per service, each with its
// own resource, all feeding that exporter.
//
// Nothing here is global: no otel.SetTracerProvider, so two shops (or a
// shop and a test) can run in one process.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Protocols the exporter speaks, named as OTEL_EXPORTER_OTLP_PROTOCOL names
// them.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// ExporterOptions says where spans go. Zero fields fall back to the OTEL_*
// environment variables and then to a local backend in plaintext
// (localhost:4317 for gRPC, localhost:4318 for HTTP).
type ExporterOptions struct {
	// Endpoint is "host:port" or a URL ("http://host:4318"). A URL with
	// https uses TLS; anything else is plaintext. For HTTP the path
	// /v1/traces is appended, as for OTEL_EXPORTER_OTLP_ENDPOINT.
	Endpoint string
	// Protocol is "grpc" or "http/protobuf" ("http" is accepted). Empty
	// means OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL,
	// then grpc.
	Protocol string
}

// ResolveProtocol returns the protocol the exporter will use.
func (o ExporterOptions) ResolveProtocol() (string, error) {
	p := o.Protocol
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	}
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", ProtocolGRPC:
		return ProtocolGRPC, nil
	case ProtocolHTTPProtobuf, "http":
		return ProtocolHTTPProtobuf, nil
	}
	return "", fmt.Errorf("otlp protocol %q: want grpc or http/protobuf", p)
}

// endpoint splits an Endpoint into host:port, whether it is plaintext and
// the URL path.
func endpoint(s string) (host string, insecure bool, path string, err error) {
	if !strings.Contains(s, "://") {
		return s, true, "", nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false, "", fmt.Errorf("otlp endpoint %q: %w", s, err)
	}
	switch u.Scheme {
	case "http":
		insecure = true
	case "https":
	default:
		return "", false, "", fmt.Errorf("otlp endpoint %q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return "", false, "", fmt.Errorf("otlp endpoint %q: no host", s)
	}
	return u.Host, insecure, strings.TrimSuffix(u.Path, "/"), nil
}

// NewExporter builds the OTLP span exporter. It does not connect: the
// first export does, and retries while the backend is not up yet.
func NewExporter(ctx context.Context, opts ExporterOptions) (sdktrace.SpanExporter, error) {
	proto, err := opts.ResolveProtocol()
	if err != nil {
		return nil, err
	}
	var host, path string
	var insecure bool
	if opts.Endpoint != "" {
		if host, insecure, path, err = endpoint(opts.Endpoint); err != nil {
			return nil, err
		}
	}
	if host == "" && !endpointFromEnv() {
		// NB: the SDK's default, localhost, is a local backend (Clew,
		// Jaeger all-in-one), which speaks plaintext; the SDK would use TLS.
		insecure = true
	}
	if proto == ProtocolGRPC {
		var o []otlptracegrpc.Option
		if host != "" {
			o = append(o, otlptracegrpc.WithEndpoint(host))
		}
		if insecure {
			o = append(o, otlptracegrpc.WithInsecure())
		}
		return otlptracegrpc.New(ctx, o...)
	}
	var o []otlptracehttp.Option
	if host != "" {
		o = append(o, otlptracehttp.WithEndpoint(host), otlptracehttp.WithURLPath(path+"/v1/traces"))
	}
	if insecure {
		o = append(o, otlptracehttp.WithInsecure())
	}
	return otlptracehttp.New(ctx, o...)
}

// endpointFromEnv reports whether an OTEL_* variable names the endpoint.
func endpointFromEnv() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Shared lets several TracerProviders export through one exporter: their
// Shutdown flushes but leaves the exporter open. Close it with
// [Shared.Close] after every provider has shut down.
type Shared struct {
	sdktrace.SpanExporter
}

// Shutdown does nothing: the exporter outlives each provider.
func (Shared) Shutdown(context.Context) error { return nil }

// Close shuts the underlying exporter down.
func (s Shared) Close(ctx context.Context) error { return s.SpanExporter.Shutdown(ctx) }

// Service describes one service for its resource.
type Service struct {
	Name        string // service.name
	Version     string // service.version
	Owner       string // service.owner: the team to page
	Environment string // deployment.environment
	// Attributes are added to the resource as they are.
	Attributes []attribute.KeyValue
}

// Resource attribute keys the demo sets.
const (
	KeyServiceName    = attribute.Key("service.name")
	KeyServiceVersion = attribute.Key("service.version")
	KeyServiceOwner   = attribute.Key("service.owner")
	KeyEnvironment    = attribute.Key("deployment.environment")
)

// NewResource builds a service's resource: the SDK's own attributes, then
// OTEL_RESOURCE_ATTRIBUTES, then the service's attributes, later ones
// winning. OTEL_SERVICE_NAME is not honoured here: the shop has a dozen
// services and one variable cannot name them all.
func NewResource(ctx context.Context, svc Service) (*resource.Resource, error) {
	attrs := append([]attribute.KeyValue{
		KeyServiceName.String(svc.Name),
		KeyServiceVersion.String(svc.Version),
		KeyServiceOwner.String(svc.Owner),
		KeyEnvironment.String(svc.Environment),
	}, svc.Attributes...)
	env, err := resource.New(ctx, resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("resource from environment: %w", err)
	}
	var fromEnv []attribute.KeyValue
	for _, kv := range env.Attributes() {
		if kv.Key != KeyServiceName { // OTEL_SERVICE_NAME lands here
			fromEnv = append(fromEnv, kv)
		}
	}
	return resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(fromEnv...),
		resource.WithAttributes(attrs...),
	)
}

// NewProvider returns a TracerProvider for svc that batches into exp. The
// batch processor exports every second (the demo should show up quickly)
// and buffers up to 16384 spans (the large-trace fault makes thousands at
// once); OTEL_BSP_SCHEDULE_DELAY and OTEL_BSP_MAX_QUEUE_SIZE override both.
// The sampler follows OTEL_TRACES_SAMPLER (default: parent-based, always).
func NewProvider(ctx context.Context, svc Service, exp sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	res, err := NewResource(ctx, svc)
	if err != nil {
		return nil, err
	}
	var bsp []sdktrace.BatchSpanProcessorOption
	if os.Getenv("OTEL_BSP_SCHEDULE_DELAY") == "" {
		bsp = append(bsp, sdktrace.WithBatchTimeout(time.Second))
	}
	if os.Getenv("OTEL_BSP_MAX_QUEUE_SIZE") == "" {
		bsp = append(bsp, sdktrace.WithMaxQueueSize(16384))
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp, bsp...),
	), nil
}
