package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/clew-tracing/clew/internal/storage"
)

// Server is a running Clew. Build it with New, run it with Run.
type Server struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	backend storage.Backend

	grpcServer *grpc.Server
	grpcLis    net.Listener
	https      []*httpServer // OTLP/HTTP, Zipkin, query/UI, in shutdown order
	closing    atomic.Bool
}

// httpServer is one HTTP listener and what it serves.
type httpServer struct {
	name string
	lis  net.Listener
	srv  *http.Server
}

// New opens storage and binds every enabled listener, so that Addr is
// known (useful with port 0) before Run. On error everything opened so far
// is closed again.
func New(cfg Config, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if s.backend, err = openBackend(cfg, log, s.reg); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		return nil, err
	}
	return s, nil
}

// listen binds addr for a named listener.
func (s *Server) listen(name, addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listener on %s: %w", name, addr, err)
	}
	s.log.Info("listening", "listener", name, "addr", lis.Addr().String())
	return lis, nil
}

// addHTTP binds and records an HTTP listener.
func (s *Server) addHTTP(name, addr string, h http.Handler) error {
	lis, err := s.listen(name, addr)
	if err != nil {
		return err
	}
	s.https = append(s.https, &httpServer{name: name, lis: lis, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}})
	return nil
}

// Addr returns the bound address of a listener ("otlp-grpc", "otlp-http",
// "zipkin", "http"), or "" when it is disabled.
func (s *Server) Addr(name string) string {
	if name == "otlp-grpc" && s.grpcLis != nil {
		return s.grpcLis.Addr().String()
	}
	for _, h := range s.https {
		if h.name == name {
			return h.lis.Addr().String()
		}
	}
	return ""
}

// Registry returns the server's metrics registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// metricsHandler serves /metrics.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
}

// Run serves until ctx is cancelled, then shuts down gracefully: listeners
// stop accepting, in-flight requests finish (bounded by a timeout), the
// storage flushes and closes. It returns the first serving error, if any.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, len(s.https)+1)
	var wg sync.WaitGroup
	if s.grpcServer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.grpcServer.Serve(s.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				errc <- fmt.Errorf("otlp-grpc: %w", err)
			}
		}()
	}
	for _, h := range s.https {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.srv.Serve(h.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", h.name, err)
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Shutdown(shutCtx)
	wg.Wait()
	return errors.Join(runErr, err)
}

// Shutdown stops the receivers first so that nothing new is accepted, lets
// in-flight requests finish, then closes the query listener and finally
// the storage, which flushes what it buffers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var errs []error
	if s.grpcServer != nil {
		done := make(chan struct{})
		go func() { s.grpcServer.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpcServer.Stop()
		}
	}
	for _, h := range s.https {
		if err := h.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.name, err))
		}
	}
	if s.backend != nil {
		if err := s.backend.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close storage: %w", err))
		}
		s.backend = nil
	}
	return errors.Join(errs...)
}

// closeAll releases what New opened when New fails half-way.
func (s *Server) closeAll() {
	if s.grpcLis != nil {
		s.grpcLis.Close()
	}
	for _, h := range s.https {
		h.lis.Close()
	}
	if s.backend != nil {
		s.backend.Close()
	}
}
