'use strict';
// A small Fastify service traced with OpenTelemetry. Run it with the SDK
// loaded first (see instrumentation.js):
//
//   node --require ./instrumentation.js index.js
//
// GET /             calls UPSTREAM_URL with fetch and returns what it said
// GET /fibonacci/:n computes the n-th Fibonacci number in a custom span
const { trace, SpanStatusCode } = require('@opentelemetry/api');
const Fastify = require('fastify');

const tracer = trace.getTracer('clew-example-node-fastify', '1.0.0');
const upstream = process.env.UPSTREAM_URL || 'http://localhost:16686/healthz';

const app = Fastify({ logger: { level: process.env.LOG_LEVEL || 'info' } });

app.get('/', async function root(request, reply) {
  // undici's instrumentation makes a client span for this fetch, a child of
  // this request's span, and sends traceparent to the upstream.
  const res = await fetch(upstream);
  const body = await res.text();
  return { upstream, status: res.status, body: body.slice(0, 200) };
});

app.get('/fibonacci/:n', async function fibonacciRoute(request, reply) {
  const n = Number.parseInt(request.params.n, 10);
  if (!Number.isInteger(n) || n < 0 || n > 90) {
    return reply.code(400).send({ error: 'n must be an integer from 0 to 90' });
  }
  // A custom span: a child of the request span, with the input and the
  // result as attributes.
  return tracer.startActiveSpan('fibonacci', (span) => {
    try {
      span.setAttribute('fibonacci.input', n);
      const result = fibonacci(n);
      span.setAttribute('fibonacci.result', result);
      return { n, result };
    } catch (err) {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      throw err;
    } finally {
      span.end();
    }
  });
});

function fibonacci(n) {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) {
    [a, b] = [b, a + b];
  }
  return a;
}

const port = Number.parseInt(process.env.PORT || '3000', 10);
const host = process.env.HOST || '127.0.0.1';
app.listen({ port, host }).then((address) => {
  // The tests read this line to learn the port when PORT=0.
  console.log(`listening on ${address}`);
}, (err) => {
  app.log.error(err);
  process.exit(1);
});
