package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestResolveProtocol(t *testing.T) {
	f := func(opt, tracesEnv, env, want string) {
		t.Helper()
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", tracesEnv)
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", env)
		got, err := ExporterOptions{Protocol: opt}.ResolveProtocol()
		if err != nil {
			if want != "error" {
				t.Errorf("%q/%q/%q: %v", opt, tracesEnv, env, err)
			}
			return
		}
		if got != want {
			t.Errorf("%q/%q/%q = %q, want %q", opt, tracesEnv, env, got, want)
		}
	}
	f("", "", "", ProtocolGRPC)
	f("", "", "http/protobuf", ProtocolHTTPProtobuf)
	f("", "grpc", "http/protobuf", ProtocolGRPC)
	f("http", "grpc", "", ProtocolHTTPProtobuf)
	f("http/json", "", "", "error")
}

func TestEndpoint(t *testing.T) {
	f := func(in, host string, insecure bool, path string) {
		t.Helper()
		h, i, p, err := endpoint(in)
		if err != nil || h != host || i != insecure || p != path {
			t.Errorf("endpoint(%q) = %q %v %q %v", in, h, i, p, err)
		}
	}
	f("localhost:4317", "localhost:4317", true, "")
	f("http://clew:4318", "clew:4318", true, "")
	f("https://otel.example:443/otlp/", "otel.example:443", false, "/otlp")
	for _, bad := range []string{"ftp://x:1", "http://", "http://[::1"} {
		if _, _, _, err := endpoint(bad); err == nil {
			t.Errorf("endpoint(%q) accepted", bad)
		}
	}
}

func TestResourcePrecedence(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "everything")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "cloud.region=eu-west-1,service.owner=nobody")
	res, err := NewResource(context.Background(), Service{
		Name: "cart", Version: "1.2.3", Owner: "team-basket", Environment: "demo",
		Attributes: []attribute.KeyValue{attribute.String("k", "v")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range res.Attributes() {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	want := map[string]string{
		"service.name": "cart", "service.version": "1.2.3", "service.owner": "team-basket",
		"deployment.environment": "demo", "cloud.region": "eu-west-1", "k": "v", "telemetry.sdk.language": "go",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestSharedExporterOverHTTP sends spans of two providers through one
// OTLP/HTTP exporter to a fake collector and checks the path and that the
// exporter outlives the first provider's shutdown.
func TestSharedExporterOverHTTP(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	ctx := context.Background()
	exp, err := NewExporter(ctx, ExporterOptions{Endpoint: collector.URL + "/base", Protocol: "http"})
	if err != nil {
		t.Fatal(err)
	}
	shared := Shared{SpanExporter: exp}
	for _, name := range []string{"a", "b"} {
		tp, err := NewProvider(ctx, Service{Name: name}, shared)
		if err != nil {
			t.Fatal(err)
		}
		_, span := tp.Tracer("test").Start(ctx, "op")
		span.End()
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatalf("provider %s: %v", name, err)
		}
	}
	if err := shared.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 2 {
		t.Fatalf("collector got %v", paths)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "POST /base/v1/traces application/x-protobuf") {
			t.Errorf("request %q", p)
		}
	}
}
