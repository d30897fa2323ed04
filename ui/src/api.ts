// The Clew and Jaeger HTTP APIs the UI reads, and their JSON shapes.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

/** getJSON fetches a same-origin API path and decodes the JSON body. */
export async function getJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  const resp = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  const text = await resp.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    if (!resp.ok) throw new ApiError(resp.status, text.slice(0, 300) || resp.statusText);
    throw new ApiError(resp.status, `malformed JSON from ${path}`);
  }
  if (!resp.ok) throw new ApiError(resp.status, errorMessage(body) ?? (resp.statusText || `HTTP ${resp.status}`));
  return body as T;
}

/** getText fetches a path as text (the raw JSON views). */
export async function getText(path: string, signal?: AbortSignal): Promise<string> {
  const resp = await fetch(path, { signal });
  const text = await resp.text();
  if (!resp.ok) throw new ApiError(resp.status, text.slice(0, 300));
  return text;
}

function errorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, any>;
  if (b.error && typeof b.error === 'object' && typeof b.error.message === 'string') return b.error.message;
  if (Array.isArray(b.errors) && b.errors[0] && typeof b.errors[0].msg === 'string') return b.errors[0].msg;
  return undefined;
}

export const enc = encodeURIComponent;

// ---- Jaeger v1 / v3 ----

export interface TraceSummary {
  traceId: string;
  rootServiceName: string;
  rootOperationName: string;
  minStartTimeUnixNano: string;
  maxEndTimeUnixNano: string;
  spanCount: number;
  errorSpanCount: number;
  services: { name: string; spanCount: number; errorSpanCount: number }[];
}

export async function services(signal?: AbortSignal): Promise<string[]> {
  const r = await getJSON<{ data: string[] | null }>('/api/services', signal);
  return (r.data ?? []).slice().sort();
}

export async function operations(service: string, signal?: AbortSignal): Promise<string[]> {
  const r = await getJSON<{ data: string[] | null }>(`/api/services/${enc(service)}/operations`, signal);
  return (r.data ?? []).slice().sort();
}

// ---- Clew ----

export interface ExplainService {
  name: string;
  spanCount: number;
  errorCount: number;
  selfTimeNs: number;
  owner: string;
}
export interface Call {
  from: string;
  to: string;
  count: number;
  totalNs: number;
  errorCount: number;
}
export interface PathSpan {
  spanID: string;
  service: string;
  name: string;
  startNs: number;
  endNs: number;
  contributionNs: number;
  depth: number;
}
export interface ErrorOrigin {
  spanID: string;
  service: string;
  name: string;
  message: string;
  exceptionType: string;
  errorChain: { spanID: string; service: string; name: string; message: string }[];
  reachedRoot: boolean;
  otherOrigins?: { spanID: string; service: string; name: string; message: string }[];
}
export interface AbnormalSpan {
  spanID: string;
  service: string;
  name: string;
  durationNs: number;
  baselineP50Ns: number;
  baselineP99Ns: number;
  samples: number;
  percentile: number;
  timesP50: number;
  onCriticalPath: boolean;
}
export interface Explanation {
  traceID: string;
  rootSpanID: string;
  rootService: string;
  rootName: string;
  startUnixNano: number;
  durationNs: number;
  rootDurationNs: number;
  spanCount: number;
  errorCount: number;
  services: ExplainService[];
  calls: Call[];
  criticalPath: PathSpan[];
  bottleneck: { spanID: string; service: string; name: string; callerService: string; contributionNs: number; durationNs: number; share: number } | null;
  errorOrigin: ErrorOrigin | null;
  recoveredErrors: { spanID: string; service: string; name: string; message: string; retriedBy: string }[];
  abnormal: { verdict: string; reason: string; spans: AbnormalSpan[]; baselines: unknown[] } | null;
  page: { kind: string; service: string; owner: string; contact: string; runbook: string; reason: string } | null;
  summary: string;
  warnings: string[];
}

export interface WaterfallSpan {
  spanID: string;
  parentSpanID: string;
  depth: number;
  service: string;
  name: string;
  kind: string;
  startNs: number;
  durationNs: number;
  selfTimeNs: number;
  skewNs?: number;
  criticalNs: number;
  error: boolean;
  errorOrigin: boolean;
  recovered: boolean;
  message: string;
  async: boolean;
  orphan: boolean;
}
export interface Waterfall {
  traceID: string;
  rootSpanID: string;
  startUnixNano: number;
  durationNs: number;
  spanCount: number;
  warnings: string[];
  spans: WaterfallSpan[];
}

export interface Window {
  startUnixNano: number;
  endUnixNano: number;
  tracesRead: number;
  sampleLimit: number;
  complete: boolean;
}
export interface ServiceGraph extends Window {
  edges: { parent: string; child: string; callCount: number; errorCount: number; p50Ns: number; p99Ns: number }[];
}
export interface RedBucket {
  startUnixNano: number;
  count: number;
  errorCount: number;
  ratePerSecond: number;
  errorRatio: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
}
export interface Red extends Window {
  service: string;
  operation: string;
  stepNs: number;
  buckets: RedBucket[];
}
