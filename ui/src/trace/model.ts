// The trace model every view draws: spans in tree order ("rows"), the
// explanation, and the spans' full details (attributes, events, links).
import type { AbnormalSpan, Explanation } from '../api';

/** Attr is one attribute with its value rendered as text. */
export interface Attr {
  key: string;
  value: string;
}

export interface SpanEvent {
  name: string;
  timeNano: bigint;
  attributes: Attr[];
}

export interface SpanLink {
  traceID: string;
  spanID: string;
  attributes: Attr[];
}

/** SpanDetail is one span as stored: what the detail panel shows. */
export interface SpanDetail {
  traceID: string;
  spanID: string;
  parentSpanID: string;
  name: string;
  kind: string; // server, client, producer, consumer, internal, unspecified
  service: string;
  startNano: bigint;
  durationNs: number;
  statusCode: 'unset' | 'ok' | 'error';
  statusMessage: string;
  attributes: Attr[];
  resource: Attr[];
  scope: { name: string; version: string; attributes: Attr[] };
  events: SpanEvent[];
  links: SpanLink[];
}

/** Row is one span laid out for drawing, in tree order. */
export interface Row {
  spanID: string;
  parentSpanID: string;
  parent: number; // index of the parent row, -1 for a root
  end: number; // index just past the last descendant
  depth: number;
  service: string;
  name: string;
  kind: string;
  startNs: number; // offset from the trace start (clock-skew corrected on the server)
  durationNs: number;
  selfTimeNs: number;
  skewNs: number;
  criticalNs: number;
  error: boolean;
  errorOrigin: boolean;
  recovered: boolean;
  message: string;
  async: boolean;
  orphan: boolean;
}

/** Trace is what a trace page shows. */
export interface Trace {
  traceID: string;
  source: 'server' | 'upload';
  fileName?: string;
  rows: Row[];
  index: Map<string, number>; // spanID → first row
  startUnixMs: number;
  startNano: bigint | null;
  minStartNs: number;
  maxEndNs: number;
  durationNs: number;
  maxDepth: number;
  warnings: string[];
  /** raw is the uploaded document, for the JSON view. */
  raw?: unknown;
}

export interface TraceState {
  trace: Trace | null;
  explain: Explanation | null;
  explainError: string | null;
  details: Map<string, SpanDetail> | null;
  detailsError: string | null;
  error: string | null;
}

export function detailOf(details: Map<string, SpanDetail> | null, r: Row): SpanDetail | undefined {
  if (!details) return undefined;
  return details.get(`${r.spanID}|${r.service}`) ?? details.get(r.spanID);
}

export function indexDetails(spans: SpanDetail[]): Map<string, SpanDetail> {
  const m = new Map<string, SpanDetail>();
  for (const s of spans) {
    if (!m.has(s.spanID)) m.set(s.spanID, s);
    m.set(`${s.spanID}|${s.service}`, s);
  }
  return m;
}

export function abnormalBySpan(e: Explanation | null): Map<string, AbnormalSpan> {
  const m = new Map<string, AbnormalSpan>();
  for (const a of e?.abnormal?.spans ?? []) m.set(a.spanID, a);
  return m;
}

/** linkRows fills parent and end from the depths of rows in tree order. */
export function linkRows(rows: Row[]): number {
  const stack: number[] = [];
  let maxDepth = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    while (stack.length && rows[stack[stack.length - 1]].depth >= r.depth) rows[stack.pop()!].end = i;
    r.parent = stack.length ? stack[stack.length - 1] : -1;
    stack.push(i);
    if (r.depth > maxDepth) maxDepth = r.depth;
  }
  while (stack.length) rows[stack.pop()!].end = rows.length;
  return maxDepth;
}

/** finishTrace computes the bounds and the index of a trace's rows. */
export function finishTrace(t: Omit<Trace, 'index' | 'minStartNs' | 'maxEndNs' | 'maxDepth'>): Trace {
  const maxDepth = linkRows(t.rows);
  let lo = 0;
  let hi = 0;
  const index = new Map<string, number>();
  t.rows.forEach((r, i) => {
    if (r.startNs < lo) lo = r.startNs;
    if (r.startNs + r.durationNs > hi) hi = r.startNs + r.durationNs;
    if (!index.has(r.spanID)) index.set(r.spanID, i);
  });
  if (hi <= lo) hi = lo + 1;
  return { ...t, index, minStartNs: lo, maxEndNs: hi, maxDepth };
}
