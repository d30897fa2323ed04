// The timeline (waterfall): a collapsible span tree beside bars on a time
// axis. Only the rows in view are in the DOM, so a trace of tens of
// thousands of spans opens and scrolls as fast as a small one.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AbnormalSpan } from '../api';
import { serviceColor } from '../colors';
import { fmtCount, fmtDuration, niceTicks } from '../format';
import { detailOf, type Row, type SpanDetail, type Trace } from '../trace/model';
import { Minimap } from './minimap';

export const ROW = 24;
const LABEL = 380;
const INDENT = 14;
const MAX_INDENT_DEPTH = 20;

export interface TimelineProps {
  trace: Trace;
  details: Map<string, SpanDetail> | null;
  abnormal: Map<string, AbnormalSpan>;
  selected: number; // row index or -1
  onSelect: (i: number) => void;
  onOpen: () => void;
}

/** visibleRows lists the rows not hidden under a collapsed ancestor. */
export function visibleRows(rows: Row[], collapsed: Set<number>): Int32Array {
  const out = new Int32Array(rows.length);
  let n = 0;
  for (let i = 0; i < rows.length; ) {
    out[n++] = i;
    i = collapsed.has(i) ? rows[i].end : i + 1;
  }
  return out.subarray(0, n);
}

function matchRows(t: Trace, details: Map<string, SpanDetail> | null, q: string): number[] {
  const s = q.trim().toLowerCase();
  if (!s) return [];
  const out: number[] = [];
  t.rows.forEach((r, i) => {
    if (r.name.toLowerCase().includes(s) || r.service.toLowerCase().includes(s) || r.spanID.startsWith(s) || r.message.toLowerCase().includes(s)) {
      out.push(i);
      return;
    }
    const d = detailOf(details, r);
    if (d && d.attributes.some((a) => `${a.key}=${a.value}`.toLowerCase().includes(s))) out.push(i);
  });
  return out;
}

/** axisTicks returns round values between v0 and v1, about n of them. */
export function axisTicks(v0: number, v1: number, n: number): number[] {
  const step = niceTicks(v1 - v0, n)[1] || 1;
  const out: number[] = [];
  for (let t = Math.ceil(v0 / step) * step; t <= v1 + step * 1e-9 && out.length < 50; t += step) out.push(t);
  return out;
}

export function Timeline({ trace, details, abnormal, selected, onSelect, onOpen }: TimelineProps) {
  const rows = trace.rows;
  const [collapsed, setCollapsed] = useState<Set<number>>(() => new Set());
  const [view, setView] = useState<[number, number]>([trace.minStartNs, trace.maxEndNs]);
  const [find, setFind] = useState('');
  const [matchAt, setMatchAt] = useState(0);
  const [critOnly, setCritOnly] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [barW, setBarW] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setCollapsed(new Set());
    setView([trace.minStartNs, trace.maxEndNs]);
  }, [trace]);

  const visible = useMemo(() => visibleRows(rows, collapsed), [rows, collapsed]);
  const posOf = useMemo(() => {
    const m = new Int32Array(rows.length).fill(-1);
    visible.forEach((r, p) => (m[r] = p));
    return m;
  }, [visible]);
  const matches = useMemo(() => matchRows(trace, details, find), [trace, details, find]);
  const matchSet = useMemo(() => new Set(matches), [matches]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => {
      setHeight(el.clientHeight || 600);
      setBarW(Math.max(100, el.clientWidth - LABEL - 12));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Reveal a row: expand its ancestors and scroll it into view.
  const reveal = (i: number) => {
    let changed = false;
    const next = new Set(collapsed);
    for (let p = rows[i].parent; p >= 0; p = rows[p].parent) if (next.delete(p)) changed = true;
    if (changed) setCollapsed(next);
    requestAnimationFrame(() => {
      const el = scroller.current;
      if (!el) return;
      const vis = changed ? visibleRows(rows, next) : visible;
      let pos = -1;
      for (let k = 0; k < vis.length; k++) if (vis[k] === i) { pos = k; break; }
      if (pos < 0) return;
      const top = pos * ROW;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight;
    });
  };

  useEffect(() => {
    if (selected >= 0 && selected < rows.length) reveal(selected);
  }, [selected, trace]);

  const toggle = (i: number) => {
    const next = new Set(collapsed);
    if (!next.delete(i)) next.add(i);
    setCollapsed(next);
  };

  const collapseToDepth = (d: number) => {
    const next = new Set<number>();
    if (d > 0) rows.forEach((r, i) => r.depth >= d - 1 && r.end > i + 1 && next.add(i));
    setCollapsed(next);
  };

  const gotoMatch = (k: number) => {
    if (!matches.length) return;
    const m = ((k % matches.length) + matches.length) % matches.length;
    setMatchAt(m);
    onSelect(matches[m]);
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT') return;
    const pos = selected >= 0 ? posOf[selected] : -1;
    const go = (p: number) => {
      if (visible.length === 0) return;
      onSelect(visible[Math.max(0, Math.min(visible.length - 1, p))]);
    };
    switch (e.key) {
      case 'ArrowDown':
        go(pos + 1);
        break;
      case 'ArrowUp':
        go(pos < 0 ? 0 : pos - 1);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(visible.length - 1);
        break;
      case 'PageDown':
        go(pos + Math.floor(height / ROW));
        break;
      case 'PageUp':
        go(pos - Math.floor(height / ROW));
        break;
      case 'ArrowRight':
        if (selected < 0) go(0);
        else if (collapsed.has(selected)) toggle(selected);
        else if (rows[selected].end > selected + 1) onSelect(selected + 1);
        break;
      case 'ArrowLeft':
        if (selected < 0) break;
        if (rows[selected].end > selected + 1 && !collapsed.has(selected)) toggle(selected);
        else if (rows[selected].parent >= 0) onSelect(rows[selected].parent);
        break;
      case 'Enter':
        if (selected >= 0) onOpen();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const [v0, v1] = view;
  const span = Math.max(1, v1 - v0);
  const first = Math.max(0, Math.floor(scrollTop / ROW) - 8);
  const last = Math.min(visible.length, Math.ceil((scrollTop + height) / ROW) + 8);
  const ticks = axisTicks(v0, v1, Math.max(2, Math.floor(barW / 110)));
  const critCount = useMemo(() => rows.reduce((n, r) => n + (r.criticalNs > 0 ? 1 : 0), 0), [rows]);

  const items = [];
  for (let p = first; p < last; p++) {
    const i = visible[p];
    const r = rows[i];
    const hasKids = r.end > i + 1;
    const left = ((r.startNs - v0) / span) * 100;
    const width = (r.durationNs / span) * 100;
    const ab = abnormal.get(r.spanID);
    const crit = r.criticalNs > 0;
    const cls = ['tl-row', i === selected && 'selected', r.error && 'is-error', crit && 'is-crit', matchSet.has(i) && 'is-match', critOnly && !crit && 'dim'].filter(Boolean).join(' ');
    items.push(
      <div key={i} class={cls} style={{ transform: `translateY(${p * ROW}px)` }} onClick={() => onSelect(i)} role="row" aria-selected={i === selected} data-row={i} data-span={r.spanID}>
        <div class="tl-label" style={{ width: `${LABEL}px` }}>
          <span class="tl-indent" style={{ width: `${Math.min(r.depth, MAX_INDENT_DEPTH) * INDENT}px` }} />
          {hasKids ? (
            <button
              type="button"
              class="tl-toggle"
              tabIndex={-1}
              aria-label={collapsed.has(i) ? 'Expand' : 'Collapse'}
              onClick={(e) => {
                e.stopPropagation();
                toggle(i);
              }}
            >
              {collapsed.has(i) ? '▸' : '▾'}
            </button>
          ) : (
            <span class="tl-toggle" />
          )}
          <span class="tl-svc-mark" style={{ background: serviceColor(r.service) }} />
          <span class="tl-svc">{r.service}</span>
          <span class="tl-name">{r.name}</span>
          {r.depth > MAX_INDENT_DEPTH && <span class="muted small">·{r.depth}</span>}
          {collapsed.has(i) && <span class="tl-hidden">+{fmtCount(r.end - i - 1)}</span>}
          {r.errorOrigin && <span class="badge badge-origin" title="The error started here">origin</span>}
          {!r.errorOrigin && r.error && <span class="err-mark" title={r.message || 'failed'}>!</span>}
          {ab && <span class="badge badge-slow" title={`p99 of ${fmtDuration(ab.baselineP99Ns)} (p50 ${fmtDuration(ab.baselineP50Ns)}, ${ab.samples} samples)`}>slow ×{ab.timesP50.toFixed(1)}</span>}
        </div>
        <div class="tl-bars">
          <div
            class={`tl-bar${r.error ? ' is-error' : ''}${crit ? ' is-crit' : ''}`}
            style={{ left: `${left}%`, width: `max(2px, ${width}%)`, background: serviceColor(r.service) }}
          />
          {ab && <div class="tl-baseline" style={{ left: `${left}%`, width: `${(ab.baselineP99Ns / span) * 100}%` }} title="the operation's usual p99" />}
          <span
            class={`tl-dur${left + width > 82 && left < 12 ? ' inside' : ''}`}
            style={left + width <= 82 ? { left: `calc(${left + width}% + 4px)` } : left >= 12 ? { right: `calc(${100 - left}% + 4px)` } : { left: `calc(${Math.max(left, 0)}% + 4px)` }}
          >
            {fmtDuration(r.durationNs)}
          </span>
        </div>
      </div>,
    );
  }

  return (
    <div class="tl" ref={root} onKeyDown={onKey}>
      <div class="tl-toolbar">
        <input
          type="search"
          class="tl-find"
          placeholder="Find: name, service, attribute, ID"
          aria-label="Find in trace"
          value={find}
          onInput={(e) => {
            setFind((e.target as HTMLInputElement).value);
            setMatchAt(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              gotoMatch(e.shiftKey ? matchAt - 1 : matches[matchAt] === selected ? matchAt + 1 : matchAt);
            }
          }}
        />
        <span class="muted small" data-testid="find-count">{find.trim() ? `${matches.length ? matchAt + 1 : 0} of ${fmtCount(matches.length)}` : ''}</span>
        <button type="button" class="btn btn-small" disabled={!matches.length} onClick={() => gotoMatch(matchAt - 1)} aria-label="Previous match">↑</button>
        <button type="button" class="btn btn-small" disabled={!matches.length} onClick={() => gotoMatch(matchAt + 1)} aria-label="Next match">↓</button>
        <span class="sep" />
        <label class="inline small">
          Expand to
          <select onChange={(e) => collapseToDepth(Number((e.target as HTMLSelectElement).value))} aria-label="Expand to depth">
            <option value="0">all levels</option>
            {Array.from({ length: Math.min(trace.maxDepth + 1, 8) }, (_, k) => (
              <option key={k} value={k + 1}>level {k + 1}</option>
            ))}
          </select>
        </label>
        <label class="inline small" title="Dim the spans off the critical path">
          <input type="checkbox" checked={critOnly} onChange={() => setCritOnly(!critOnly)} />
          Critical path ({fmtCount(critCount)})
        </label>
        <span class="spacer" />
        <span class="legend small">
          <span class="legend-crit" /> critical path <span class="legend-err">!</span> error <span class="badge badge-origin">origin</span>
        </span>
        {(v0 !== trace.minStartNs || v1 !== trace.maxEndNs) && (
          <button type="button" class="btn btn-small" onClick={() => setView([trace.minStartNs, trace.maxEndNs])}>Reset zoom</button>
        )}
      </div>
      <div class="tl-head">
        <div class="tl-head-label" style={{ width: `${LABEL}px` }}>
          <span class="muted small">{fmtCount(rows.length)} spans · {fmtCount(visible.length)} shown</span>
        </div>
        <div class="tl-head-axis">
          <Minimap trace={trace} view={view} onView={setView} width={barW} />
          <div class="tl-ticks">
            {ticks.filter((t) => (t - v0) / span < 0.95).map((t) => (
              <span key={t} class="tl-tick" style={{ left: `${((t - v0) / span) * 100}%` }}>{fmtDuration(t)}</span>
            ))}
          </div>
        </div>
      </div>
      <div
        class="tl-scroll"
        ref={scroller}
        tabIndex={0}
        role="treegrid"
        aria-label="Spans"
        data-testid="timeline"
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
      >
        <div class="tl-canvas" style={{ height: `${visible.length * ROW}px` }}>
          <div class="tl-gridlines" style={{ left: `${LABEL}px` }}>
            {ticks.map((t) => (
              <span key={t} style={{ left: `${((t - v0) / span) * 100}%` }} />
            ))}
          </div>
          {items}
        </div>
      </div>
    </div>
  );
}
