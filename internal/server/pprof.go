package server

import (
	"net/http"
	"net/http/pprof"
)

// registerPprof serves Go's profiler under /debug/pprof/ on the query
// listener, as Prometheus and Jaeger do, so that an operator can see
// where CPU and memory go on a live server.
func registerPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
