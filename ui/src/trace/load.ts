// Loading a trace: from the server (waterfall first, so the timeline
// draws at once; explanation and span details follow), or from an upload
// kept in this tab's memory.
import { useEffect, useState } from 'preact/hooks';
import { enc, getJSON, type Explanation, type Waterfall } from '../api';
import { analyze } from './analyze';
import { finishTrace, indexDetails, type Row, type SpanDetail, type Trace, type TraceState } from './model';
import { parseAny, parseOTLP } from './parse';

interface Uploaded {
  trace: Trace;
  explain: Explanation;
  details: Map<string, SpanDetail>;
}

/** uploads holds traces read from files in this tab: they are never sent to the server. */
const uploads = new Map<string, Uploaded>();

export function isUploaded(id: string): boolean {
  return uploads.has(id.toLowerCase());
}

/** uploadFile parses a file and keeps its traces; it returns their IDs. */
export function uploadText(text: string, fileName: string): string[] {
  const { spans, doc } = parseAny(text);
  const byTrace = new Map<string, SpanDetail[]>();
  for (const s of spans) {
    const id = s.traceID || 'uploaded';
    let l = byTrace.get(id);
    if (!l) byTrace.set(id, (l = []));
    l.push(s);
  }
  const ids: string[] = [];
  for (const [id, list] of byTrace) {
    const { trace, explain } = analyze(list, id, fileName, byTrace.size === 1 ? doc : undefined);
    uploads.set(id, { trace, explain, details: indexDetails(list) });
    ids.push(id);
  }
  return ids;
}

export function waterfallRows(w: Waterfall): Row[] {
  return w.spans.map((s) => ({
    spanID: s.spanID, parentSpanID: s.parentSpanID, parent: -1, end: 0, depth: s.depth,
    service: s.service, name: s.name, kind: s.kind, startNs: s.startNs, durationNs: s.durationNs,
    selfTimeNs: s.selfTimeNs, skewNs: s.skewNs ?? 0, criticalNs: s.criticalNs, error: s.error,
    errorOrigin: s.errorOrigin, recovered: s.recovered, message: s.message ?? '', async: s.async, orphan: s.orphan,
  }));
}

const empty: TraceState = { trace: null, explain: null, explainError: null, details: null, detailsError: null, error: null };

/** useTrace loads a trace by ID; the state fills in as the answers arrive. */
export function useTrace(id: string): TraceState {
  const [st, setSt] = useState<TraceState>(empty);
  useEffect(() => {
    const up = uploads.get(id.toLowerCase());
    if (up) {
      setSt({ ...empty, trace: up.trace, explain: up.explain, details: up.details });
      return;
    }
    setSt(empty);
    const ac = new AbortController();
    const base = `/api/clew/traces/${enc(id)}`;
    const update = (f: (s: TraceState) => TraceState) => {
      if (!ac.signal.aborted) setSt(f);
    };
    getJSON<Waterfall>(`${base}/waterfall`, ac.signal).then(
      (w) => {
        const rows = waterfallRows(w);
        const t = finishTrace({
          traceID: w.traceID, source: 'server', rows, startUnixMs: w.startUnixNano / 1e6, startNano: null,
          durationNs: w.durationNs, warnings: w.warnings ?? [],
        });
        update((s) => ({ ...s, trace: t }));
      },
      (e: Error) => update((s) => ({ ...s, error: e.message })),
    );
    getJSON<Explanation>(`${base}/explain`, ac.signal).then(
      (e) => update((s) => ({ ...s, explain: e })),
      (e: Error) => update((s) => ({ ...s, explainError: e.message })),
    );
    getJSON<unknown>(`/api/v3/traces/${enc(id)}`, ac.signal).then(
      (doc) => update((s) => ({ ...s, details: indexDetails(parseOTLP(doc)) })),
      (e: Error) => update((s) => ({ ...s, detailsError: e.message })),
    );
    return () => ac.abort();
  }, [id]);
  return st;
}
