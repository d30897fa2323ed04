// Client-side analysis for traces the server has not stored (uploads): the
// span tree, self time, critical path and error origin, following the
// rules of docs/api-clew.md in simplified form (no clock-skew correction,
// no baselines). Stored traces use the server's /waterfall and /explain.
import type { Call, ErrorOrigin, ExplainService, Explanation, PathSpan } from '../api';
import { fmtDuration } from '../format';
import { finishTrace, type Row, type SpanDetail, type Trace } from './model';
import { isErrorSpan } from './parse';

interface Node {
  d: SpanDetail;
  kids: number[];
  parent: number;
  start: number;
  end: number;
  orphan: boolean;
  async: boolean;
}

export interface Analysis {
  trace: Trace;
  explain: Explanation;
}

/** analyze lays out and explains one trace's spans. */
export function analyze(all: SpanDetail[], traceID: string, fileName?: string, raw?: unknown): Analysis {
  const seen = new Set<string>();
  const spans = all.filter((s) => (seen.has(s.spanID) ? false : (seen.add(s.spanID), true)));
  if (spans.length === 0) throw new Error('the trace has no spans');
  let base = spans[0].startNano;
  for (const s of spans) if (s.startNano < base) base = s.startNano;
  const nodes: Node[] = spans.map((d) => {
    const start = Number(d.startNano - base);
    return { d, kids: [], parent: -1, start, end: start + d.durationNs, orphan: false, async: false };
  });
  const byId = new Map<string, number>();
  nodes.forEach((n, i) => byId.set(n.d.spanID, i));
  const earliest = (xs: number[]) => xs.reduce((a, b) => (nodes[b].start < nodes[a].start ? b : a));
  const trueRoots = nodes.map((_, i) => i).filter((i) => !nodes[i].d.parentSpanID);
  const orphans = nodes.map((_, i) => i).filter((i) => nodes[i].d.parentSpanID && !byId.has(nodes[i].d.parentSpanID));
  const root = trueRoots.length ? earliest(trueRoots) : orphans.length ? earliest(orphans) : 0;
  const warnings: string[] = [];
  nodes.forEach((n, i) => {
    if (i === root) return;
    const p = byId.get(n.d.parentSpanID);
    if (p !== undefined && p !== i) n.parent = p;
    else if (n.d.parentSpanID) {
      n.parent = root;
      n.orphan = true;
    }
  });
  if (orphans.length > (trueRoots.length ? 0 : 1)) warnings.push(`${orphans.length - (trueRoots.length ? 0 : 1)} span(s) name a parent that is not in the trace; shown under the root`);
  nodes.forEach((n, i) => {
    if (n.parent >= 0) nodes[n.parent].kids.push(i);
  });
  for (const n of nodes) {
    n.kids.sort((a, b) => nodes[a].start - nodes[b].start);
    for (const k of n.kids) {
      const c = nodes[k];
      c.async = n.d.kind === 'producer' || c.d.kind === 'consumer' || c.start >= n.end;
    }
  }

  // Tree order, iteratively (deep traces must not overflow the stack).
  const order: number[] = [];
  const depth = new Int32Array(nodes.length);
  const visited = new Uint8Array(nodes.length);
  const tops = [root, ...nodes.map((_, i) => i).filter((i) => i !== root && nodes[i].parent < 0).sort((a, b) => nodes[a].start - nodes[b].start)];
  const visit = (top: number) => {
    const stack = [top];
    depth[top] = 0;
    while (stack.length) {
      const i = stack.pop()!;
      if (visited[i]) continue;
      visited[i] = 1;
      order.push(i);
      const ks = nodes[i].kids;
      for (let k = ks.length - 1; k >= 0; k--) {
        depth[ks[k]] = depth[i] + 1;
        stack.push(ks[k]);
      }
    }
  };
  tops.forEach(visit);
  const cyclic = nodes.map((_, i) => i).filter((i) => !visited[i]);
  if (cyclic.length) {
    warnings.push(`${cyclic.length} span(s) form a parent cycle; shown as extra roots`);
    for (const i of cyclic) {
      if (visited[i]) continue;
      nodes[i].parent = -1;
      visit(i);
    }
  }

  // Self time: duration minus the union of the children, clipped to the span.
  const self = new Float64Array(nodes.length);
  nodes.forEach((n, i) => {
    let covered = 0;
    let curS = -Infinity;
    let curE = -Infinity;
    for (const k of n.kids) {
      const s = Math.max(nodes[k].start, n.start);
      const e = Math.min(nodes[k].end, n.end);
      if (e <= s) continue;
      if (s > curE) {
        if (curE > curS) covered += curE - curS;
        curS = s;
        curE = e;
      } else if (e > curE) curE = e;
    }
    if (curE > curS) covered += curE - curS;
    self[i] = Math.max(0, n.d.durationNs - covered);
  });

  // Critical path: from the root's end, repeatedly the last-finishing
  // synchronous child that ends before the current point.
  const crit = new Float64Array(nodes.length);
  const onPath = new Uint8Array(nodes.length);
  const work: [number, number][] = [[root, nodes[root].end]];
  while (work.length) {
    const [i, bound] = work.pop()!;
    const n = nodes[i];
    onPath[i] = 1;
    let cur = Math.min(n.end, bound);
    const kids = n.kids.filter((k) => !nodes[k].async).sort((a, b) => nodes[b].end - nodes[a].end);
    for (const k of kids) {
      const c = nodes[k];
      const cEnd = Math.min(c.end, n.end);
      if (cEnd > cur || c.start >= cur) continue;
      crit[i] += cur - cEnd;
      work.push([k, cEnd]);
      cur = Math.max(c.start, n.start);
    }
    crit[i] += Math.max(0, cur - n.start);
  }

  // Errors: an origin is a failed span with no failed child.
  const failed = nodes.map((n) => isErrorSpan(n.d));
  const origins = order.filter((i) => failed[i] && !nodes[i].kids.some((k) => failed[k]));
  origins.sort((a, b) => depth[b] - depth[a] || nodes[a].start - nodes[b].start);
  const message = (i: number) => {
    const d = nodes[i].d;
    if (d.statusMessage) return d.statusMessage;
    const ex = d.events.find((e) => e.name === 'exception');
    return ex?.attributes.find((a) => a.key === 'exception.message')?.value ?? '';
  };
  let errorOrigin: ErrorOrigin | null = null;
  if (origins.length) {
    const o = origins[0];
    const chain: ErrorOrigin['errorChain'] = [];
    let reachedRoot = true;
    for (let p = nodes[o].parent; p >= 0; p = nodes[p].parent) {
      if (!failed[p]) {
        reachedRoot = false;
        break;
      }
      chain.push({ spanID: nodes[p].d.spanID, service: nodes[p].d.service, name: nodes[p].d.name, message: message(p) });
      if (chain.length > nodes.length) break;
    }
    const ex = nodes[o].d.events.find((e) => e.name === 'exception');
    errorOrigin = {
      spanID: nodes[o].d.spanID, service: nodes[o].d.service, name: nodes[o].d.name, message: message(o),
      exceptionType: ex?.attributes.find((a) => a.key === 'exception.type')?.value ?? '',
      errorChain: chain, reachedRoot,
      otherOrigins: origins.slice(1, 21).map((i) => ({ spanID: nodes[i].d.spanID, service: nodes[i].d.service, name: nodes[i].d.name, message: message(i) })),
    };
  }

  const rows: Row[] = order.map((i) => {
    const n = nodes[i];
    return {
      spanID: n.d.spanID, parentSpanID: n.d.parentSpanID, parent: -1, end: 0, depth: depth[i],
      service: n.d.service, name: n.d.name, kind: n.d.kind, startNs: n.start, durationNs: n.d.durationNs,
      selfTimeNs: self[i], skewNs: 0, criticalNs: onPath[i] ? crit[i] : 0, error: failed[i],
      errorOrigin: errorOrigin?.spanID === n.d.spanID, recovered: false, message: failed[i] ? message(i) : '',
      async: n.async, orphan: n.orphan,
    };
  });

  // Services in the order the request reached them, and the calls between them.
  const svc = new Map<string, ExplainService>();
  const calls = new Map<string, Call>();
  for (const i of order) {
    const d = nodes[i].d;
    let s = svc.get(d.service);
    if (!s) svc.set(d.service, (s = { name: d.service, spanCount: 0, errorCount: 0, selfTimeNs: 0, owner: '' }));
    s.spanCount++;
    if (failed[i]) s.errorCount++;
    s.selfTimeNs += self[i];
    const p = nodes[i].parent;
    if (p >= 0 && nodes[p].d.service !== d.service) {
      const key = `${nodes[p].d.service}\u0000${d.service}`;
      let c = calls.get(key);
      if (!c) calls.set(key, (c = { from: nodes[p].d.service, to: d.service, count: 0, totalNs: 0, errorCount: 0 }));
      c.count++;
      c.totalNs += d.durationNs;
      if (failed[i]) c.errorCount++;
    }
  }
  const path: PathSpan[] = order.filter((i) => onPath[i] && crit[i] > 0).map((i) => ({
    spanID: nodes[i].d.spanID, service: nodes[i].d.service, name: nodes[i].d.name, startNs: nodes[i].start,
    endNs: nodes[i].end, contributionNs: crit[i], depth: depth[i],
  }));
  let end = 0;
  for (const n of nodes) end = Math.max(end, n.end);
  const r = nodes[root];
  const durationNs = Math.max(r.end, end) - r.start;
  const bn = path.filter((p) => p.spanID !== r.d.spanID).sort((a, b) => b.contributionNs - a.contributionNs)[0];
  const errCount = failed.filter(Boolean).length;
  let summary = `${r.d.service} ${r.d.name} took ${fmtDuration(durationNs)}${failed[root] ? ' and failed' : ''}`;
  if (bn && durationNs > 0) summary += `; ${Math.round((bn.contributionNs / durationNs) * 100)}% of it was ${bn.service} ${bn.name}`;
  summary += '.';
  if (errorOrigin) summary += ` The error started in ${errorOrigin.service} ${errorOrigin.name}${errorOrigin.message ? ` (${errorOrigin.message})` : ''}.`;
  else if (errCount) summary += ` ${errCount} span(s) failed.`;
  summary += ' (Analysed in the browser: no baselines for an uploaded trace.)';

  const explain: Explanation = {
    traceID, rootSpanID: r.d.spanID, rootService: r.d.service, rootName: r.d.name,
    startUnixNano: Number(base), durationNs, rootDurationNs: r.d.durationNs, spanCount: nodes.length, errorCount: errCount,
    services: [...svc.values()], calls: [...calls.values()], criticalPath: path,
    bottleneck: bn ? { spanID: bn.spanID, service: bn.service, name: bn.name, callerService: '', contributionNs: bn.contributionNs, durationNs: bn.endNs - bn.startNs, share: bn.contributionNs / durationNs } : null,
    errorOrigin, recoveredErrors: [], abnormal: { verdict: 'unknown', reason: 'no baselines for an uploaded trace', spans: [], baselines: [] },
    page: null, summary, warnings,
  };
  const trace = finishTrace({
    traceID, source: 'upload', fileName, rows, startUnixMs: Number(base / 1000000n), startNano: base,
    durationNs, warnings, raw,
  });
  return { trace, explain };
}
