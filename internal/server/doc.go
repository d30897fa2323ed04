// Package server assembles a running Clew from its parts: it opens the
// storage backend, builds the ingest pipeline and receivers, the query
// layer and the HTTP APIs, binds every listener and shuts them down in an
// order that loses nothing (receivers first, storage last).
//
// It is the only package that knows every other one; cmd/clew turns flags
// into a Config and calls New and Run. Tests start a whole server in
// process on port 0 the same way.
package server
