package server

import (
	"net/http"

	"github.com/clew-tracing/clew/internal/analysis"
	clewapi "github.com/clew-tracing/clew/internal/api/clew"
	jaegerapi "github.com/clew-tracing/clew/internal/api/jaeger"
	tempoapi "github.com/clew-tracing/clew/internal/api/tempo"
	zipkinapi "github.com/clew-tracing/clew/internal/api/zipkin"
	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/query"
	otlpreceiver "github.com/clew-tracing/clew/internal/receiver/otlp"
	zipkinreceiver "github.com/clew-tracing/clew/internal/receiver/zipkin"
	"github.com/clew-tracing/clew/ui"
)

// build creates the pipeline from ingest to the APIs and binds each
// enabled listener:
//
//	otlp-grpc  OTLP/gRPC TraceService
//	otlp-http  OTLP/HTTP /v1/traces
//	zipkin     Zipkin collector (/api/v1|v2/spans POST) + Zipkin query API v2
//	http       Jaeger API v1/v3, Tempo's API (/api/search, /api/v2/..., /api/metrics/...),
//	           Clew's /api/clew, /metrics, /healthz, /readyz,
//	           and the web UI (/, /search, /trace/, /compare/, /services, /assets/)
func (s *Server) build() error {
	var owners *analysis.Owners
	if s.cfg.OwnersFile != "" {
		var err error
		if owners, err = analysis.LoadOwners(s.cfg.OwnersFile); err != nil {
			return err
		}
	}
	in, err := ingest.New(s.backend, ingest.Options{
		MaxInFlightBytes: s.cfg.MaxInFlightBytes,
		Retention:        s.cfg.Retention,
		Logger:           s.log,
		Registerer:       s.reg,
	})
	if err != nil {
		return err
	}
	q, err := query.New(s.backend, query.Options{Logger: s.log, Registerer: s.reg})
	if err != nil {
		return err
	}

	if s.cfg.OTLPGRPCAddr != "" || s.cfg.OTLPHTTPAddr != "" {
		otlp, err := otlpreceiver.New(in, otlpreceiver.Options{
			MaxRequestBytes: s.cfg.HTTPMaxBodyBytes,
			AllowedOrigins:  s.cfg.CORSAllowedOrigins,
			Logger:          s.log,
		})
		if err != nil {
			return err
		}
		if s.cfg.OTLPGRPCAddr != "" {
			if s.grpcLis, err = s.listen("otlp-grpc", s.cfg.OTLPGRPCAddr); err != nil {
				return err
			}
			s.grpcServer = otlpreceiver.NewGRPCServer(s.cfg.GRPCMaxRecvMsgBytes)
			otlp.Register(s.grpcServer)
		}
		if s.cfg.OTLPHTTPAddr != "" {
			mux := http.NewServeMux()
			otlp.RegisterHTTP(mux)
			if err := s.addHTTP("otlp-http", s.cfg.OTLPHTTPAddr, mux); err != nil {
				return err
			}
		}
	}

	if s.cfg.ZipkinAddr != "" {
		zr, err := zipkinreceiver.New(in, zipkinreceiver.Options{MaxRequestBytes: s.cfg.HTTPMaxBodyBytes, Logger: s.log})
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		zr.Register(mux)
		zipkinapi.New(q, zipkinapi.Options{Logger: s.log}).Register(mux)
		if err := s.addHTTP("zipkin", s.cfg.ZipkinAddr, mux); err != nil {
			return err
		}
	}

	if s.cfg.HTTPAddr != "" {
		mux := http.NewServeMux()
		jaegerapi.New(q, jaegerapi.Options{Logger: s.log}).Register(mux)
		tempo, err := tempoapi.New(q, tempoapi.Options{Logger: s.log})
		if err != nil {
			return err
		}
		tempo.Register(mux)
		clewapi.New(q, clewapi.Options{Logger: s.log, Owners: owners}).Register(mux)
		mux.Handle("GET /metrics", s.metricsHandler())
		mux.HandleFunc("GET /healthz", handleHealthz)
		mux.HandleFunc("GET /readyz", s.handleReadyz)
		registerPprof(mux)
		// The UI's patterns are explicit (no catch-all "/"), so an unknown
		// /api/ path stays a 404 from the mux rather than the app's page.
		uiHandler := ui.Handler()
		for _, p := range ui.Patterns {
			mux.Handle(p, uiHandler)
		}
		// GET /api/traces/{id} is Jaeger's route; the middleware answers
		// it in Tempo's shape only for requests that ask for protobuf (as
		// Grafana's Tempo data source does) or pass format=tempo.
		if err := s.addHTTP("http", s.cfg.HTTPAddr, tempo.TraceByIDMiddleware(mux)); err != nil {
			return err
		}
	}
	return nil
}
