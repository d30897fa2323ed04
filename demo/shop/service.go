package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/clew-tracing/clew/demo/faults"
	"github.com/clew-tracing/clew/demo/rpc"
)

// instrumentationName is the scope of the shop's own (custom) spans.
const instrumentationName = "github.com/clew-tracing/clew/demo/shop"

// service is what every shop service has: its own TracerProvider (so its
// own resource), a listener, an HTTP or gRPC server, clients for the
// services it calls, and the shop's dice and latency model.
type service struct {
	name   string
	log    *slog.Logger
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	rnd    *random
	dice   *faults.Dice
	lis    net.Listener

	httpServer *http.Server
	grpcServer *grpc.Server

	// base is the shop's shared transport; peers wrap it per callee.
	base  http.RoundTripper
	addrs map[string]string

	mu    sync.Mutex
	conns []*grpc.ClientConn
}

// serveHTTP makes the service an HTTP server of mux, traced by otelhttp:
// each request gets a server span named "METHOD /pattern", continuing the
// caller's trace from its traceparent header.
func (s *service) serveHTTP(mux *http.ServeMux) {
	h := otelhttp.NewHandler(mux, s.name,
		otelhttp.WithTracerProvider(s.tp),
		otelhttp.WithPropagators(s.prop),
	)
	s.httpServer = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// serveGRPC makes the service a gRPC server traced by otelgrpc.
func (s *service) serveGRPC() *grpc.Server {
	s.grpcServer = grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(s.tp),
		otelgrpc.WithPropagators(s.prop),
	)))
	return s.grpcServer
}

// serve runs the server until it is stopped.
func (s *service) serve() error {
	var err error
	if s.grpcServer != nil {
		err = s.grpcServer.Serve(s.lis)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
	} else {
		err = s.httpServer.Serve(s.lis)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// shutdown stops accepting and waits for in-flight requests, until ctx
// ends.
func (s *service) shutdown(ctx context.Context) error {
	if s.grpcServer != nil {
		done := make(chan struct{})
		go func() { s.grpcServer.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpcServer.Stop()
			<-done
		}
		return nil
	}
	if s.httpServer == nil {
		return s.lis.Close()
	}
	if err := s.httpServer.Shutdown(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// closeClients closes the gRPC connections the service opened.
func (s *service) closeClients() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.Close())
	}
	s.conns = nil
	return errors.Join(errs...)
}

// peer is an HTTP client of one callee service.
type peer struct {
	name   string
	base   string // http://host:port
	client *http.Client
}

type routeKey struct{}

// httpPeer returns a client of the named service. Its client spans are
// named by route ("GET /carts/{user}") and carry peer.service, which is
// how a service graph knows the callee even when the callee is not traced.
func (s *service) httpPeer(name string) *peer {
	tr := otelhttp.NewTransport(s.base,
		otelhttp.WithTracerProvider(s.tp),
		otelhttp.WithPropagators(s.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if route, ok := r.Context().Value(routeKey{}).(string); ok {
				return r.Method + " " + route
			}
			return "HTTP " + r.Method
		}),
		otelhttp.WithSpanOptions(trace.WithAttributes(attribute.String("peer.service", name))),
	)
	return &peer{name: name, base: "http://" + s.addrs[name], client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// grpcClient calls the methods of one gRPC service.
type grpcClient struct {
	conn    grpc.ClientConnInterface
	service string // full name, e.g. shop.pricing.v1.Pricing
}

// call invokes a method of the client's service.
func (c *grpcClient) call(ctx context.Context, method string, req map[string]any) (*structpb.Struct, error) {
	out, err := rpc.Call(ctx, c.conn, c.service, method, req)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", c.service, method, err)
	}
	return out, nil
}

// grpcPeer returns a client of fullService served by the shop service
// name, traced by otelgrpc. The connection is closed with the service.
func (s *service) grpcPeer(name, fullService string) (*grpcClient, error) {
	conn, err := grpc.NewClient(s.addrs[name],
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(s.tp),
			otelgrpc.WithPropagators(s.prop),
			otelgrpc.WithSpanAttributes(attribute.String("peer.service", name)),
		)),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: client of %s: %w", s.name, name, err)
	}
	s.mu.Lock()
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
	return &grpcClient{conn: conn, service: fullService}, nil
}

// statusError is an error with the HTTP status that reports it.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// httpErrorf returns an error answered with status code.
func httpErrorf(code int, format string, args ...any) error {
	return &statusError{code: code, msg: fmt.Sprintf(format, args...)}
}

// do sends a request to route (a pattern, for the span name) at path with
// in as the JSON body (nil for none), and decodes the JSON answer into out
// (nil to discard it). A non-2xx answer is a *statusError with the
// callee's message.
func (p *peer) do(ctx context.Context, method, route, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, route, err)
		}
		body = bytes.NewReader(b)
	}
	ctx = context.WithValue(ctx, routeKey{}, route)
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", p.name, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &statusError{code: resp.StatusCode, msg: fmt.Sprintf("%s: %s", p.name, e.Error)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", p.name, err)
		}
	}
	return nil
}

// handlerFunc is an HTTP handler that returns its error instead of writing
// it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h on mux. A returned error is answered as JSON with its
// status (500 unless it is a statusError), and a server error (5xx) is
// recorded on the request's span as an exception.
func (s *service) handle(mux *http.ServeMux, pattern string, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		code := http.StatusInternalServerError
		var se *statusError
		if errors.As(err, &se) {
			code = se.code
		}
		if code >= 500 {
			fail(trace.SpanFromContext(r.Context()), err)
			s.log.Debug("request failed", "service", s.name, "route", pattern, "status", code, "err", err)
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
	})
}

// fail records err on span as an exception and sets its status.
func fail(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes the request body into v.
func readJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		return httpErrorf(http.StatusBadRequest, "bad request body: %v", err)
	}
	return nil
}

// work takes about typical (between half and twice), the time a handler
// spends on its own; it returns early with ctx's error.
func (s *service) work(ctx context.Context, typical time.Duration) error {
	return sleep(ctx, s.rnd.around(typical))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// random is the shop's latency and choice source, safe for concurrent use.
type random struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newRandom(seed uint64) *random {
	return &random{rng: rand.New(rand.NewPCG(seed, 0xc1e3))}
}

// around returns a duration between d/2 and 2d.
func (r *random) around(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return d/2 + time.Duration(r.rng.Int64N(int64(d)*3/2+1))
}

// between returns a duration in [lo, hi).
func (r *random) between(lo, hi time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)+1))
}

// intn returns a number in [0, n).
func (r *random) intn(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.IntN(n)
}

// chance reports true with probability p.
func (r *random) chance(p float64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.Float64() < p
}
