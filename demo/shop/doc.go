// Package shop is Clew's demo: a small online shop of twelve services,
// each a real HTTP or gRPC server on its own loopback port, calling one
// another over the network with W3C trace context, traced with the
// OpenTelemetry Go SDK, and played by simulated users. It gives a new user
// traces worth asking questions of without instrumenting anything.
//
// The call graph (→ HTTP, ⇒ gRPC, ⇢ the shipments queue, ◦ database
// spans):
//
//	users → frontend ◦redis
//	        frontend → catalog ◦postgresql (N+1 fault)
//	                     catalog → search ◦elasticsearch (reindex: large trace)
//	                     catalog ⇒ pricing ◦redis
//	                     catalog ⇒ inventory ◦postgresql
//	                     catalog → shipping ◦redis
//	        frontend ⇒ recommendation ◦redis → orders (the user's history)
//	        frontend → cart ◦redis
//	        frontend → checkout → cart, ⇒ pricing, → shipping,
//	                              → payment ◦postgresql → bank (slow, timeout, busy faults)
//	                              → orders ◦postgresql ⇒ inventory ⇢ shipping ◦postgresql
//
// Every service has its own TracerProvider and resource (service.name,
// service.version, deployment.environment and service.owner, the team to
// page); all share one OTLP exporter. HTTP is traced by otelhttp and gRPC
// by otelgrpc; each service adds custom spans with attributes and events,
// records errors as exception events with an error status, and the db
// package adds database client spans with db.system and db.statement. The
// consumer of the shipments queue starts a new trace linked to the
// producer span.
//
// Latencies follow a fixed model (a few milliseconds per hop, tens at the
// bank), and the faults of package faults strike at low rates by default,
// so the traces have something to find: a slow bank, a payment failing
// because the bank timed out deep in the chain, a retry that recovers, an
// N+1 query pattern, and now and then a trace of thousands of spans.
//
// [Run] runs it until its context ends and then stops everything (traffic,
// servers, queue, exporters with a final flush) before it returns.
// `clew serve --demo` runs it against the server's own OTLP listener,
// `clew demo` against any OTLP backend.
package shop
