'use strict';
// OpenTelemetry setup for the example. It is loaded before the app with
//
//   node --require ./instrumentation.js index.js
//
// so that the instrumentations can patch http, undici (fetch) and fastify
// before the app first requires them.
//
// Everything else comes from the standard OTEL_* environment variables:
// OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318, Clew's
// OTLP/HTTP port), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, ...

// Clew stores traces; do not send metrics or logs unless asked to.
process.env.OTEL_METRICS_EXPORTER ??= 'none';
process.env.OTEL_LOGS_EXPORTER ??= 'none';

const { NodeSDK } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { FastifyOtelInstrumentation } = require('@fastify/otel');

const sdk = new NodeSDK({
  // OTEL_SERVICE_NAME, when set, wins over this default.
  serviceName: process.env.OTEL_SERVICE_NAME || 'fibonacci-node',
  // OTLP over HTTP with protobuf bodies: POST <endpoint>/v1/traces.
  traceExporter: new OTLPTraceExporter(),
  instrumentations: [
    // http (the server span of each request) and undici (fetch client
    // spans) are the ones this app uses; fs, dns and net only add noise.
    getNodeAutoInstrumentations({
      '@opentelemetry/instrumentation-fs': { enabled: false },
      '@opentelemetry/instrumentation-dns': { enabled: false },
      '@opentelemetry/instrumentation-net': { enabled: false },
    }),
    // Fastify's own instrumentation: a "request" span per request, named by
    // route. The handler span is off so that the app's spans are children
    // of the request span directly.
    new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHandler: false }),
  ],
});
sdk.start();

// Flush the spans still buffered before the process exits.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    sdk.shutdown()
      .catch((err) => console.error('opentelemetry shutdown:', err))
      .finally(() => process.exit(0));
  });
}
