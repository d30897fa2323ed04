// /compare/<a>/<b>: two traces as one merged tree. Spans are matched by
// their path of service and operation names from the root (the n-th child
// with the same name matches the n-th), so the same request shape lines up
// even though every span ID differs.
import { useMemo, useState } from 'preact/hooks';
import { serviceColor } from '../colors';
import { ErrorBox, Link, Loading, Swatch } from '../components/common';
import { fmtCount, fmtDuration } from '../format';
import { useTrace } from '../trace/load';
import type { Trace } from '../trace/model';

const ROW = 24;

export interface Merged {
  depth: number;
  service: string;
  name: string;
  a: number; // row in A, -1 if missing
  b: number;
}

/** mergeTrees matches the rows of two traces by service/operation path. */
export function mergeTrees(A: Trace, B: Trace): Merged[] {
  interface N extends Merged {
    kids: N[];
  }
  const top: N[] = [];
  const byKey = new Map<string, N>();
  const add = (t: Trace, side: 'a' | 'b') => {
    const keys: string[] = new Array(t.rows.length);
    const seen = new Map<string, number>();
    t.rows.forEach((r, i) => {
      const pk = r.parent >= 0 ? keys[r.parent] : '';
      const base = `${pk}\u0001${r.service}\u0002${r.name}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const key = `${base}#${n}`;
      keys[i] = key;
      let node = byKey.get(key);
      if (!node) {
        node = { depth: r.depth, service: r.service, name: r.name, a: -1, b: -1, kids: [] };
        byKey.set(key, node);
        const parent = r.parent >= 0 ? byKey.get(keys[r.parent]) : undefined;
        (parent ? parent.kids : top).push(node);
      }
      node[side] = i;
    });
  };
  add(A, 'a');
  add(B, 'b');
  const out: Merged[] = [];
  const stack = top.slice().reverse();
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    for (let k = n.kids.length - 1; k >= 0; k--) stack.push(n.kids[k]);
  }
  return out;
}

function status(A: Trace, B: Trace, m: Merged): string {
  if (m.a < 0) return 'added';
  if (m.b < 0) return 'missing';
  const da = A.rows[m.a].durationNs;
  const db = B.rows[m.b].durationNs;
  const d = db - da;
  if (Math.abs(d) < Math.max(0.1 * da, 1e6)) return 'same';
  return d > 0 ? 'slower' : 'faster';
}

export function ComparePage({ a, b }: { a: string; b: string }) {
  const A = useTrace(a);
  const B = useTrace(b);
  if (A.error || B.error) return <div class="page"><ErrorBox title="Cannot compare" message={(A.error ?? B.error)!} /></div>;
  if (!A.trace || !B.trace) return <div class="page"><Loading what="both traces" /></div>;
  return <Comparison A={A.trace} B={B.trace} />;
}

function Comparison({ A, B }: { A: Trace; B: Trace }) {
  const merged = useMemo(() => mergeTrees(A, B), [A, B]);
  const [onlyDiff, setOnlyDiff] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const statuses = useMemo(() => merged.map((m) => status(A, B, m)), [merged]);
  const counts = statuses.reduce<Record<string, number>>((c, s) => ((c[s] = (c[s] ?? 0) + 1), c), {});
  const list = useMemo(() => merged.map((_, i) => i).filter((i) => !onlyDiff || statuses[i] !== 'same'), [merged, onlyDiff]);
  const perService = useMemo(() => {
    const m = new Map<string, { a: number; b: number; na: number; nb: number }>();
    const add = (t: Trace, side: 'a' | 'b') => {
      for (const r of t.rows) {
        let s = m.get(r.service);
        if (!s) m.set(r.service, (s = { a: 0, b: 0, na: 0, nb: 0 }));
        s[side] += r.selfTimeNs;
        if (side === 'a') s.na++;
        else s.nb++;
      }
    };
    add(A, 'a');
    add(B, 'b');
    return [...m.entries()].sort((x, y) => Math.abs(y[1].b - y[1].a) - Math.abs(x[1].b - x[1].a));
  }, [A, B]);
  const height = 560;
  const first = Math.max(0, Math.floor(scrollTop / ROW) - 5);
  const last = Math.min(list.length, Math.ceil((scrollTop + height) / ROW) + 5);
  const spanA = Math.max(1, A.maxEndNs - A.minStartNs);
  const spanB = Math.max(1, B.maxEndNs - B.minStartNs);
  const delta = B.durationNs - A.durationNs;
  const rowsOut = [];
  for (let p = first; p < last; p++) {
    const m = merged[list[p]];
    const st = statuses[list[p]];
    const ra = m.a >= 0 ? A.rows[m.a] : null;
    const rb = m.b >= 0 ? B.rows[m.b] : null;
    const d = ra && rb ? rb.durationNs - ra.durationNs : 0;
    rowsOut.push(
      <div key={list[p]} class={`cmp-row cmp-${st}`} style={{ transform: `translateY(${p * ROW}px)` }} data-status={st}>
        <div class="cmp-label">
          <span class="tl-indent" style={{ width: `${Math.min(m.depth, 20) * 14}px` }} />
          <span class="tl-svc-mark" style={{ background: serviceColor(m.service) }} />
          <span class="tl-svc">{m.service}</span>
          <span class="tl-name">{m.name}</span>
          {st !== 'same' && <span class={`badge badge-${st}`}>{st}</span>}
        </div>
        <div class="cmp-num">{ra ? fmtDuration(ra.durationNs) : '—'}</div>
        <div class="cmp-num">{rb ? fmtDuration(rb.durationNs) : '—'}</div>
        <div class={`cmp-num ${d > 0 && st === 'slower' ? 'text-error' : st === 'faster' ? 'text-ok' : ''}`}>{ra && rb ? `${d > 0 ? '+' : ''}${fmtDuration(d)}` : ''}</div>
        <div class="cmp-bars">
          {ra && <div class="cmp-bar cmp-bar-a" style={{ left: `${((ra.startNs - A.minStartNs) / spanA) * 100}%`, width: `max(2px, ${(ra.durationNs / spanA) * 100}%)` }} />}
          {rb && <div class="cmp-bar cmp-bar-b" style={{ left: `${((rb.startNs - B.minStartNs) / spanB) * 100}%`, width: `max(2px, ${(rb.durationNs / spanB) * 100}%)` }} />}
        </div>
      </div>,
    );
  }
  return (
    <div class="page compare" data-testid="compare">
      <div class="card">
        <h1>Compare traces</h1>
        <div class="cmp-heads">
          <div>
            <span class="cmp-key cmp-key-a">A</span> <Link href={`/trace/${A.traceID}`}>{A.rows[0].service} {A.rows[0].name}</Link>
            <div class="muted small mono">{A.traceID} · {fmtCount(A.rows.length)} spans · {fmtDuration(A.durationNs)}</div>
          </div>
          <div>
            <span class="cmp-key cmp-key-b">B</span> <Link href={`/trace/${B.traceID}`}>{B.rows[0].service} {B.rows[0].name}</Link>
            <div class="muted small mono">{B.traceID} · {fmtCount(B.rows.length)} spans · {fmtDuration(B.durationNs)}</div>
          </div>
        </div>
        <p class="summary" data-testid="compare-summary">
          B took {fmtDuration(B.durationNs)} against A's {fmtDuration(A.durationNs)} ({delta >= 0 ? '+' : ''}
          {fmtDuration(delta)}). {fmtCount(counts.added ?? 0)} spans added, {fmtCount(counts.missing ?? 0)} missing, {fmtCount(counts.slower ?? 0)} slower, {fmtCount(counts.faster ?? 0)} faster,{' '}
          {fmtCount(counts.same ?? 0)} about the same.
        </p>
      </div>
      <div class="card">
        <h2>Self time per service</h2>
        <table class="table" data-testid="compare-services">
          <thead>
            <tr><th>Service</th><th class="num">Spans A</th><th class="num">Spans B</th><th class="num">Self A</th><th class="num">Self B</th><th class="num">Difference</th></tr>
          </thead>
          <tbody>
            {perService.map(([svc, s]) => (
              <tr key={svc}>
                <td><Swatch service={svc} /> {svc}</td>
                <td class="num">{fmtCount(s.na)}</td>
                <td class="num">{fmtCount(s.nb)}</td>
                <td class="num">{fmtDuration(s.a)}</td>
                <td class="num">{fmtDuration(s.b)}</td>
                <td class={`num ${s.b - s.a > 1e6 ? 'text-error' : s.a - s.b > 1e6 ? 'text-ok' : ''}`}>{`${s.b - s.a >= 0 ? '+' : ''}${fmtDuration(s.b - s.a)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="card">
        <div class="flame-bar">
          <h2>Merged span tree</h2>
          <span class="spacer" />
          <label class="inline small">
            <input type="checkbox" checked={onlyDiff} onChange={() => setOnlyDiff(!onlyDiff)} /> Only differences
          </label>
        </div>
        <div class="cmp-row cmp-header">
          <div class="cmp-label">Service / operation</div>
          <div class="cmp-num">A</div>
          <div class="cmp-num">B</div>
          <div class="cmp-num">Δ</div>
          <div class="cmp-bars small muted">A (top) and B (bottom), each on its own time axis</div>
        </div>
        <div class="cmp-scroll" style={{ height: `${Math.min(height, list.length * ROW + 4)}px` }} onScroll={(e) => setScrollTop((e.target as HTMLElement).scrollTop)} data-testid="compare-tree">
          <div class="tl-canvas" style={{ height: `${list.length * ROW}px` }}>{rowsOut}</div>
        </div>
      </div>
    </div>
  );
}
