// Decoding of OTLP JSON (API v3, OTLP/HTTP JSON, an exporter's file) and
// Jaeger JSON (API v1, the Jaeger UI's download) into SpanDetails. Input
// is untrusted: every field is checked, and values become plain strings.
import type { Attr, SpanDetail, SpanEvent, SpanLink } from './model';

type J = Record<string, any>;

const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

function big(v: unknown): bigint {
  try {
    if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
    if (typeof v === 'number' && isFinite(v) && v >= 0) return BigInt(Math.round(v));
  } catch {
    /* fall through */
  }
  return 0n;
}

/** hexID normalizes a trace or span ID: hex as is (lower case), base64 (proto JSON) decoded. */
export function hexID(v: unknown): string {
  const s = str(v);
  if (s === '') return '';
  if (/^[0-9a-fA-F]+$/.test(s) && (s.length === 16 || s.length === 32 || s.length % 2 === 0)) return s.toLowerCase();
  try {
    const bin = atob(s);
    let out = '';
    for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, '0');
    return out;
  } catch {
    return s;
  }
}

/** anyValue renders an OTLP AnyValue as text. */
export function anyValue(v: unknown): string {
  if (!isObj(v)) return '';
  if ('stringValue' in v) return str(v.stringValue);
  if ('boolValue' in v) return String(!!v.boolValue);
  if ('intValue' in v) return str(v.intValue);
  if ('doubleValue' in v) return str(v.doubleValue);
  if ('bytesValue' in v) return str(v.bytesValue);
  if ('arrayValue' in v) return JSON.stringify(arr(v.arrayValue?.values).map(anyValue));
  if ('kvlistValue' in v) {
    const o: Record<string, string> = {};
    for (const kv of arr(v.kvlistValue?.values)) if (isObj(kv)) o[str(kv.key)] = anyValue(kv.value);
    return JSON.stringify(o);
  }
  return '';
}

function otlpAttrs(v: unknown): Attr[] {
  return arr(v).filter(isObj).map((kv) => ({ key: str(kv.key), value: anyValue(kv.value) }));
}

const kindNames: Record<string, string> = {
  '0': 'unspecified', '1': 'internal', '2': 'server', '3': 'client', '4': 'producer', '5': 'consumer',
  SPAN_KIND_UNSPECIFIED: 'unspecified', SPAN_KIND_INTERNAL: 'internal', SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client', SPAN_KIND_PRODUCER: 'producer', SPAN_KIND_CONSUMER: 'consumer',
};

function statusOf(v: unknown): 'unset' | 'ok' | 'error' {
  const c = isObj(v) ? str(v.code) : '';
  if (c === '2' || c === 'STATUS_CODE_ERROR') return 'error';
  if (c === '1' || c === 'STATUS_CODE_OK') return 'ok';
  return 'unset';
}

/** parseOTLP decodes an OTLP JSON document ({resourceSpans}) or API v3's {result: …}. */
export function parseOTLP(doc: unknown): SpanDetail[] {
  let d: unknown = doc;
  if (isObj(d) && isObj(d.result)) d = d.result;
  if (!isObj(d)) return [];
  const out: SpanDetail[] = [];
  for (const rs of arr(d.resourceSpans ?? d.resource_spans).filter(isObj)) {
    const resource = otlpAttrs(rs.resource?.attributes);
    const service = resource.find((a) => a.key === 'service.name')?.value || 'unknown_service';
    for (const ss of arr(rs.scopeSpans ?? rs.scope_spans ?? rs.instrumentationLibrarySpans).filter(isObj)) {
      const sc = isObj(ss.scope) ? ss.scope : isObj(ss.instrumentationLibrary) ? ss.instrumentationLibrary : {};
      const scope = { name: str(sc.name), version: str(sc.version), attributes: otlpAttrs(sc.attributes) };
      for (const sp of arr(ss.spans).filter(isObj)) {
        const start = big(sp.startTimeUnixNano);
        const end = big(sp.endTimeUnixNano);
        const events: SpanEvent[] = arr(sp.events).filter(isObj).map((e) => ({
          name: str(e.name), timeNano: big(e.timeUnixNano), attributes: otlpAttrs(e.attributes),
        }));
        const links: SpanLink[] = arr(sp.links).filter(isObj).map((l) => ({
          traceID: hexID(l.traceId), spanID: hexID(l.spanId), attributes: otlpAttrs(l.attributes),
        }));
        out.push({
          traceID: hexID(sp.traceId),
          spanID: hexID(sp.spanId),
          parentSpanID: hexID(sp.parentSpanId),
          name: str(sp.name),
          kind: kindNames[str(sp.kind)] ?? 'unspecified',
          service,
          startNano: start,
          durationNs: end > start ? Number(end - start) : 0,
          statusCode: statusOf(sp.status),
          statusMessage: isObj(sp.status) ? str(sp.status.message) : '',
          attributes: otlpAttrs(sp.attributes),
          resource,
          scope,
          events,
          links,
        });
      }
    }
  }
  return out;
}

function jaegerTags(v: unknown): Attr[] {
  return arr(v).filter(isObj).map((t) => ({ key: str(t.key), value: typeof t.value === 'object' && t.value !== null ? JSON.stringify(t.value) : str(t.value) }));
}

/** parseJaeger decodes Jaeger JSON: {data: [trace…]}, one trace, or a list of traces. */
export function parseJaeger(doc: unknown): SpanDetail[] {
  let traces: any[] = [];
  if (Array.isArray(doc)) traces = doc;
  else if (isObj(doc) && Array.isArray(doc.data)) traces = doc.data;
  else if (isObj(doc) && Array.isArray(doc.spans)) traces = [doc];
  const out: SpanDetail[] = [];
  for (const t of traces.filter(isObj)) {
    const procs: J = isObj(t.processes) ? t.processes : {};
    for (const sp of arr(t.spans).filter(isObj)) {
      const proc: J = isObj(sp.process) ? sp.process : isObj(procs[str(sp.processID)]) ? procs[str(sp.processID)] : {};
      let tags = jaegerTags(sp.tags);
      const take = (key: string): string | undefined => {
        const a = tags.find((x) => x.key === key);
        if (a) tags = tags.filter((x) => x !== a);
        return a?.value;
      };
      const kind = take('span.kind') ?? 'unspecified';
      const otelStatus = take('otel.status_code');
      const statusMessage = take('otel.status_description') ?? '';
      const scopeName = take('otel.scope.name') ?? take('otel.library.name') ?? '';
      const scopeVersion = take('otel.scope.version') ?? take('otel.library.version') ?? '';
      const errTag = tags.find((x) => x.key === 'error')?.value === 'true';
      const refs = arr(sp.references).filter(isObj);
      const parentRef = refs.find((r) => r.refType === 'CHILD_OF') ?? refs[0];
      const startUs = big(sp.startTime);
      out.push({
        traceID: hexID(sp.traceID ?? t.traceID),
        spanID: hexID(sp.spanID),
        parentSpanID: parentRef && hexID(parentRef.traceID ?? sp.traceID) === hexID(sp.traceID ?? t.traceID) ? hexID(parentRef.spanID) : hexID(sp.parentSpanID),
        name: str(sp.operationName),
        kind: ['server', 'client', 'producer', 'consumer', 'internal'].includes(kind) ? kind : 'unspecified',
        service: str(proc.serviceName) || 'unknown_service',
        startNano: startUs * 1000n,
        durationNs: Number(sp.duration) * 1000 || 0,
        statusCode: otelStatus === 'ERROR' || errTag ? 'error' : otelStatus === 'OK' ? 'ok' : 'unset',
        statusMessage,
        attributes: tags,
        resource: jaegerTags(proc.tags),
        scope: { name: scopeName, version: scopeVersion, attributes: [] },
        events: arr(sp.logs).filter(isObj).map((l) => {
          const fields = jaegerTags(l.fields);
          const ev = fields.find((f) => f.key === 'event');
          return { name: ev?.value ?? 'log', timeNano: big(l.timestamp) * 1000n, attributes: fields.filter((f) => f !== ev) };
        }),
        links: refs.filter((r) => r !== parentRef).map((r) => ({
          traceID: hexID(r.traceID), spanID: hexID(r.spanID),
          attributes: [{ key: 'opentracing.ref_type', value: r.refType === 'FOLLOWS_FROM' ? 'follows_from' : 'child_of' }],
        })),
      });
    }
  }
  return out;
}

/** parseAny tells OTLP from Jaeger JSON and decodes either; it throws on neither. */
export function parseAny(text: string): { spans: SpanDetail[]; format: 'otlp' | 'jaeger'; doc: unknown } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  const inner = isObj(doc) && isObj(doc.result) ? doc.result : doc;
  if (isObj(inner) && ('resourceSpans' in inner || 'resource_spans' in inner)) {
    return { spans: parseOTLP(doc), format: 'otlp', doc };
  }
  const spans = parseJaeger(doc);
  if (spans.length === 0) throw new Error('neither OTLP JSON (resourceSpans) nor Jaeger JSON (data[].spans) with any span');
  return { spans, format: 'jaeger', doc };
}

/** isErrorSpan says whether a span failed: status error, error=true, or an exception event. */
export function isErrorSpan(s: SpanDetail): boolean {
  return s.statusCode === 'error' || s.attributes.some((a) => a.key === 'error' && a.value === 'true') || s.events.some((e) => e.name === 'exception');
}
