// /trace/<id>?view=timeline|flame|graph|stats|json&span=<spanID>
import { useMemo, useState } from 'preact/hooks';
import type { Explanation } from '../api';
import { CopyButton, ErrorBox, Loading, ServiceChip } from '../components/common';
import { Flame } from '../components/flame';
import { Graph } from '../components/graph';
import { RawJSON } from '../components/rawjson';
import { SpanPanel } from '../components/spanpanel';
import { Stats } from '../components/stats';
import { Timeline } from '../components/timeline';
import { fmtCount, fmtDuration, fmtRelative, fmtTime } from '../format';
import { navigate, qs } from '../router';
import { useTrace } from '../trace/load';
import { abnormalBySpan, detailOf, type Trace } from '../trace/model';

const views: [string, string][] = [
  ['timeline', 'Timeline'],
  ['flame', 'Flame graph'],
  ['graph', 'Service graph'],
  ['stats', 'Statistics'],
  ['json', 'JSON'],
];

export function TracePage({ id, query }: { id: string; query: URLSearchParams }) {
  const st = useTrace(id);
  const view = views.some(([v]) => v === query.get('view')) ? query.get('view')! : 'timeline';
  const spanID = query.get('span') ?? '';
  const panelOpen = query.get('panel') !== 'closed';
  const t = st.trace;
  const selected = t && spanID ? (t.index.get(spanID) ?? -1) : -1;
  const abnormal = useMemo(() => abnormalBySpan(st.explain), [st.explain]);
  const setQuery = (v: Record<string, string>, replace = true) => {
    const q = { view: view === 'timeline' ? '' : view, span: spanID, panel: panelOpen ? '' : 'closed', ...v };
    navigate(`/trace/${encodeURIComponent(id)}${qs(q)}`, replace);
  };
  const select = (i: number) => t && setQuery({ span: i >= 0 ? t.rows[i].spanID : '' });

  if (st.error) return <div class="page"><ErrorBox title={`Trace ${id}`} message={st.error} /></div>;
  if (!t) return <div class="page"><Loading what={`trace ${id}`} /></div>;
  const row = selected >= 0 ? t.rows[selected] : null;
  return (
    <div class="trace-page">
      <TraceHeader trace={t} explain={st.explain} explainError={st.explainError} />
      <div class="tabs" role="tablist">
        {views.map(([v, label]) => (
          <button key={v} type="button" role="tab" aria-selected={v === view} class={v === view ? 'tab active' : 'tab'} onClick={() => setQuery({ view: v === 'timeline' ? '' : v }, false)}>
            {label}
          </button>
        ))}
      </div>
      <div class={`trace-body${row && panelOpen && (view === 'timeline' || view === 'flame') ? ' with-panel' : ''}`}>
        <div class="trace-view">
          {view === 'timeline' && (
            <Timeline
              trace={t}
              details={st.details}
              abnormal={abnormal}
              selected={selected}
              onSelect={(i) => setQuery({ span: t.rows[i].spanID, panel: '' })}
              onOpen={() => setQuery({ panel: panelOpen ? 'closed' : '' })}
            />
          )}
          {view === 'flame' && <Flame trace={t} selected={selected} onSelect={select} />}
          {view === 'graph' && <TraceGraph explain={st.explain} />}
          {view === 'stats' && <Stats trace={t} />}
          {view === 'json' && <RawJSON trace={t} />}
        </div>
        {row && panelOpen && (view === 'timeline' || view === 'flame') && (
          <SpanPanel
            trace={t}
            row={row}
            index={selected}
            detail={detailOf(st.details, row)}
            detailsError={st.detailsError}
            explain={st.explain}
            abnormal={abnormal.get(row.spanID)}
            onSelect={select}
            onClose={() => setQuery({ panel: 'closed' })}
          />
        )}
      </div>
    </div>
  );
}

function TraceHeader({ trace, explain, explainError }: { trace: Trace; explain: Explanation | null; explainError: string | null }) {
  const root = trace.rows[0];
  const errors = useMemo(() => trace.rows.reduce((n, r) => n + (r.error ? 1 : 0), 0), [trace]);
  const services = useMemo(() => {
    if (explain) return explain.services.map((s) => ({ name: s.name, count: s.spanCount, errors: s.errorCount }));
    const m = new Map<string, { name: string; count: number; errors: number }>();
    for (const r of trace.rows) {
      let s = m.get(r.service);
      if (!s) m.set(r.service, (s = { name: r.service, count: 0, errors: 0 }));
      s.count++;
      if (r.error) s.errors++;
    }
    return [...m.values()];
  }, [trace, explain]);
  const origin = explain?.errorOrigin;
  const [allServices, setAllServices] = useState(false);
  return (
    <header class="trace-header card" data-testid="trace-header">
      <div class="th-top">
        <h1 class="th-title">
          <span class="th-service">{root.service}</span> <span class="th-op">{root.name}</span>
        </h1>
        {trace.source === 'upload' && <span class="badge badge-upload" title="Read from a file in this tab; not stored">uploaded: {trace.fileName}</span>}
        <span class="spacer" />
        <span class="mono small muted" data-testid="trace-id">{trace.traceID}</span>
        <CopyButton text={trace.traceID} label="Copy ID" />
      </div>
      <dl class="th-facts">
        <div><dt>Started</dt><dd title={fmtRelative(trace.startUnixMs)}>{fmtTime(trace.startUnixMs)}</dd></div>
        <div><dt>Duration</dt><dd>{fmtDuration(trace.durationNs)}</dd></div>
        <div><dt>Services</dt><dd>{services.length}</dd></div>
        <div><dt>Depth</dt><dd>{trace.maxDepth + 1}</dd></div>
        <div><dt>Spans</dt><dd>{fmtCount(trace.rows.length)}</dd></div>
        <div><dt>Errors</dt><dd class={errors ? 'text-error' : ''}>{fmtCount(errors)}</dd></div>
        {explain?.abnormal && explain.abnormal.verdict !== 'unknown' && (
          <div><dt>Verdict</dt><dd class={explain.abnormal.verdict === 'abnormal' ? 'text-warn' : ''}>{explain.abnormal.verdict}</dd></div>
        )}
      </dl>
      <div class="chips">
        {(allServices ? services : services.slice(0, 12)).map((s) => (
          <ServiceChip key={s.name} service={s.name} count={s.count} errors={s.errors} />
        ))}
        {services.length > 12 && (
          <button type="button" class="btn btn-small" onClick={() => setAllServices(!allServices)}>
            {allServices ? 'Fewer' : `+${services.length - 12} more`}
          </button>
        )}
      </div>
      {explain ? (
        <p class="summary" data-testid="summary">{explain.summary}</p>
      ) : explainError ? (
        <p class="muted small">No explanation: {explainError}</p>
      ) : (
        <p class="muted small">Explaining…</p>
      )}
      {origin && (
        <p class="origin-line" data-testid="error-origin">
          <span class="badge badge-origin">error origin</span> {origin.service} {origin.name}
          {origin.message && <span class="muted">: {origin.message}</span>}
        </p>
      )}
      {(explain?.warnings.length || trace.warnings.length) > 0 && (
        <details class="warnings small">
          <summary>{(explain?.warnings ?? trace.warnings).length} warning(s)</summary>
          <ul>
            {(explain?.warnings ?? trace.warnings).map((w, k) => (
              <li key={k}>{w}</li>
            ))}
          </ul>
        </details>
      )}
    </header>
  );
}

function TraceGraph({ explain }: { explain: Explanation | null }) {
  if (!explain) return <Loading what="the service graph" />;
  const maxCount = Math.max(1, ...explain.calls.map((c) => c.count));
  return (
    <div class="card">
      <p class="muted small">Services of this trace and the calls between them: count and the time spent in the callee.</p>
      <Graph
        nodes={explain.services.map((s) => ({ id: s.name, sub: `${fmtCount(s.spanCount)} span${s.spanCount === 1 ? '' : 's'} · self ${fmtDuration(s.selfTimeNs)}`, error: s.errorCount > 0 }))}
        edges={explain.calls.map((c) => ({
          from: c.from, to: c.to, error: c.errorCount > 0, width: 1.2 + (4 * c.count) / maxCount,
          label: `${fmtCount(c.count)}× · ${fmtDuration(c.totalNs)}${c.errorCount ? ` · ${c.errorCount} err` : ''}`,
        }))}
      />
    </div>
  );
}
