// /search: the query form (all of its state is in the URL), a scatter plot
// of the results and the result list.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { enc, getJSON, operations, services, type TraceSummary } from '../api';
import { Empty, ErrorBox, Link, Loading, ServiceChip } from '../components/common';
import { useAsync } from '../components/hooks';
import { Scatter } from '../components/scatter';
import { fmtCount, fmtDuration, fmtRelative, fmtTime, goDuration, parseDuration } from '../format';
import { navigate, qs } from '../router';

export const lookbacks: [string, string, number][] = [
  ['15m', 'Last 15 minutes', 15 * 60e3],
  ['1h', 'Last hour', 3600e3],
  ['6h', 'Last 6 hours', 6 * 3600e3],
  ['24h', 'Last 24 hours', 24 * 3600e3],
  ['2d', 'Last 2 days', 48 * 3600e3],
];

const sorts: [string, string][] = [
  ['recent', 'Most recent'],
  ['longest', 'Longest first'],
  ['shortest', 'Shortest first'],
  ['spans', 'Most spans'],
  ['errors', 'Most errors'],
];

interface Params {
  service: string;
  operation: string;
  tags: string;
  minDuration: string;
  maxDuration: string;
  lookback: string;
  start: string; // µs
  end: string; // µs
  limit: string;
  sort: string;
}

function readParams(q: URLSearchParams): Params {
  const g = (k: string) => q.get(k) ?? '';
  return {
    service: g('service'), operation: g('operation'), tags: g('tags'), minDuration: g('minDuration'),
    maxDuration: g('maxDuration'), lookback: g('lookback') || (g('start') ? 'custom' : '1h'), start: g('start'),
    end: g('end'), limit: g('limit') || '20', sort: g('sort') || 'recent',
  };
}

/** parseTags reads `key=value key2="a b"` or a JSON object into a map. */
export function parseTags(s: string): Record<string, string> {
  const t = s.trim();
  if (!t) return {};
  if (t.startsWith('{')) {
    const o = JSON.parse(t);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) out[k] = String(v);
    return out;
  }
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=(?:"([^"]*)"|(\S*))/g;
  let m: RegExpExecArray | null;
  let used = 0;
  while ((m = re.exec(t))) {
    out[m[1]] = m[2] ?? m[3] ?? '';
    used += m[0].length;
  }
  if (used < t.replace(/\s+/g, '').length) throw new Error('tags must be key=value pairs separated by spaces');
  return out;
}

function windowOf(p: Params, now: number): [number, number] {
  if (p.lookback === 'custom') {
    const s = Number(p.start) / 1000;
    const e = p.end ? Number(p.end) / 1000 : now;
    return [s, e];
  }
  const lb = lookbacks.find((l) => l[0] === p.lookback)?.[2] ?? 3600e3;
  return [now - lb, now];
}

function summariesURL(p: Params): string {
  const [s, e] = windowOf(p, Date.now());
  if (!isFinite(s) || !isFinite(e)) throw new Error('the custom time range is incomplete');
  if (e < s) throw new Error('the end of the time range is before its start');
  const tags = parseTags(p.tags);
  const dur = (v: string, name: string) => {
    if (!v) return undefined;
    const ns = parseDuration(v);
    if (!isFinite(ns)) throw new Error(`${name} "${v}" is not a duration like 250ms or 1.5s`);
    return goDuration(ns);
  };
  return `/api/v3/trace-summaries${qs({
    'query.serviceName': p.service,
    'query.operationName': p.operation,
    'query.attributes': Object.keys(tags).length ? JSON.stringify(tags) : '',
    'query.startTimeMin': new Date(s).toISOString(),
    'query.startTimeMax': new Date(e).toISOString(),
    'query.durationMin': dur(p.minDuration, 'min duration'),
    'query.durationMax': dur(p.maxDuration, 'max duration'),
    'query.num_traces': p.limit,
  })}`;
}

export interface Result extends TraceSummary {
  startMs: number;
  durationNs: number;
}

function toResult(s: TraceSummary): Result {
  const a = BigInt(s.minStartTimeUnixNano || '0');
  const b = BigInt(s.maxEndTimeUnixNano || '0');
  return { ...s, startMs: Number(a / 1000000n), durationNs: b > a ? Number(b - a) : 0 };
}

function sortResults(rs: Result[], by: string): Result[] {
  const out = rs.slice();
  const cmp: Record<string, (a: Result, b: Result) => number> = {
    recent: (a, b) => b.startMs - a.startMs,
    longest: (a, b) => b.durationNs - a.durationNs,
    shortest: (a, b) => a.durationNs - b.durationNs,
    spans: (a, b) => b.spanCount - a.spanCount,
    errors: (a, b) => b.errorSpanCount - a.errorSpanCount || b.startMs - a.startMs,
  };
  return out.sort(cmp[by] ?? cmp.recent);
}

const usToLocal = (us: string) => {
  if (!us) return '';
  const d = new Date(Number(us) / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const localToUs = (v: string) => (v ? String(new Date(v).getTime() * 1000) : '');

export function SearchPage({ query }: { query: URLSearchParams }) {
  const key = query.toString();
  const params = useMemo(() => readParams(query), [key]);
  // Submitting the same search again runs it again.
  const [runs, setRuns] = useState(0);
  const results = useAsync(`${key}#${runs}`, async (signal) => {
    const r = await getJSON<{ summaries: TraceSummary[] }>(summariesURL(params), signal);
    return (r.summaries ?? []).map(toResult);
  });
  return (
    <div class="search-layout">
      <SearchForm initial={params} rerun={() => setRuns((n) => n + 1)} />
      <section class="search-results" aria-label="Results">
        {results.loading && !results.data && <Loading what="traces" />}
        {results.error && <ErrorBox title="The search failed" message={results.error} />}
        {results.data && <Results results={results.data} sort={params.sort} query={query} />}
      </section>
    </div>
  );
}

function SearchForm({ initial, rerun }: { initial: Params; rerun: () => void }) {
  const [p, setP] = useState<Params>(initial);
  useEffect(() => setP(initial), [initial]);
  const svcs = useAsync('services', services);
  const ops = useAsync(`ops:${p.service}`, (s) => (p.service ? operations(p.service, s) : Promise.resolve([] as string[])));
  const set = (k: keyof Params) => (e: Event) => setP({ ...p, [k]: (e.target as HTMLInputElement).value });
  let formError = '';
  try {
    parseTags(p.tags);
  } catch (e) {
    formError = (e as Error).message;
  }
  const submit = (e: Event) => {
    e.preventDefault();
    if (formError) return;
    const to = `/search${qs({
        service: p.service, operation: p.operation, tags: p.tags.trim(), minDuration: p.minDuration.trim(),
        maxDuration: p.maxDuration.trim(), lookback: p.lookback === 'custom' ? 'custom' : p.lookback,
        start: p.lookback === 'custom' ? p.start : '', end: p.lookback === 'custom' ? p.end : '',
        limit: p.limit, sort: p.sort === 'recent' ? '' : p.sort,
      })}`;
    if (to === window.location.pathname + window.location.search) rerun();
    else navigate(to);
  };
  return (
    <form class="search-form card" onSubmit={submit} aria-label="Search traces">
      <h2>Search</h2>
      <label>
        Service
        <input list="services-list" name="service" value={p.service} placeholder="any service" autocomplete="off" onInput={(e) => setP({ ...p, service: (e.target as HTMLInputElement).value, operation: '' })} />
        <datalist id="services-list">{(svcs.data ?? []).map((s) => <option key={s} value={s} />)}</datalist>
      </label>
      <label>
        Operation
        <input list="operations-list" name="operation" value={p.operation} placeholder={p.service ? 'any operation' : 'choose a service first'} autocomplete="off" onInput={set('operation')} />
        <datalist id="operations-list">{(ops.data ?? []).map((s) => <option key={s} value={s} />)}</datalist>
      </label>
      <label>
        Attributes
        <input list="tags-list" name="tags" value={p.tags} placeholder="error=true http.status_code=500" autocomplete="off" onInput={set('tags')} />
        <datalist id="tags-list">
          {['error=true', 'http.status_code=500', 'http.response.status_code=500', 'http.method=POST', 'rpc.grpc.status_code=14', 'db.system=postgresql'].map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        {formError && <span class="field-error">{formError}</span>}
      </label>
      <div class="row2">
        <label>
          Min duration
          <input name="minDuration" value={p.minDuration} placeholder="e.g. 100ms" onInput={set('minDuration')} />
        </label>
        <label>
          Max duration
          <input name="maxDuration" value={p.maxDuration} placeholder="e.g. 2s" onInput={set('maxDuration')} />
        </label>
      </div>
      <label>
        Time range
        <select name="lookback" value={p.lookback} onChange={set('lookback')}>
          {lookbacks.map(([v, l]) => (
            <option key={v} value={v}>{l}</option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {p.lookback === 'custom' && (
        <div class="row2">
          <label>
            From
            <input type="datetime-local" name="start" value={usToLocal(p.start)} onInput={(e) => setP({ ...p, start: localToUs((e.target as HTMLInputElement).value) })} />
          </label>
          <label>
            To
            <input type="datetime-local" name="end" value={usToLocal(p.end)} onInput={(e) => setP({ ...p, end: localToUs((e.target as HTMLInputElement).value) })} />
          </label>
        </div>
      )}
      <label>
        Limit
        <input type="number" name="limit" min={1} max={1500} value={p.limit} onInput={set('limit')} />
      </label>
      <button type="submit" class="btn btn-primary" disabled={!!formError}>Find traces</button>
    </form>
  );
}

function Results({ results, sort, query }: { results: Result[]; sort: string; query: URLSearchParams }) {
  const [selected, setSelected] = useState<string[]>([]);
  const sorted = useMemo(() => sortResults(results, sort), [results, sort]);
  const maxDur = Math.max(1, ...results.map((r) => r.durationNs));
  const setSort = (v: string) => {
    const q = new URLSearchParams(query);
    if (v === 'recent') q.delete('sort');
    else q.set('sort', v);
    navigate(`/search?${q.toString()}`, true);
  };
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.filter((_, i) => s.length < 2 || i > 0), id]));
  if (results.length === 0) {
    return <Empty>No traces match. Widen the time range or remove a condition.</Empty>;
  }
  return (
    <>
      <div class="card">
        <Scatter
          points={results.map((r) => ({ id: r.traceId, timeMs: r.startMs, durationNs: r.durationNs, error: r.errorSpanCount > 0, label: `${r.rootServiceName}: ${r.rootOperationName}` }))}
        />
      </div>
      <div class="results-bar">
        <span class="muted" data-testid="result-count">{fmtCount(results.length)} traces</span>
        <label class="inline">
          Sort
          <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value)} aria-label="Sort results">
            {sorts.map(([v, l]) => (
              <option key={v} value={v}>{l}</option>
            ))}
          </select>
        </label>
        <span class="spacer" />
        <span class="muted">{selected.length === 0 ? 'Tick two traces to compare them' : selected.length === 1 ? 'Tick one more to compare' : ''}</span>
        <button type="button" class="btn" disabled={selected.length !== 2} onClick={() => navigate(`/compare/${selected[0]}/${selected[1]}`)} data-testid="compare-button">
          Compare {selected.length}/2
        </button>
      </div>
      <ol class="results" data-testid="results">
        {sorted.map((r) => (
          <li key={r.traceId} class={`result card${r.errorSpanCount ? ' result-error' : ''}`}>
            <input type="checkbox" aria-label={`Select trace ${r.traceId} to compare`} checked={selected.includes(r.traceId)} onChange={() => toggle(r.traceId)} />
            <div class="result-main">
              <div class="result-head">
                <Link href={`/trace/${enc(r.traceId)}`} class="result-title">
                  <span class="result-service">{r.rootServiceName || '(no root)'}</span>
                  <span class="result-op">{r.rootOperationName}</span>
                </Link>
                <span class="result-dur">{fmtDuration(r.durationNs)}</span>
              </div>
              <div class="result-bar-track">
                <div class={`result-bar${r.errorSpanCount ? ' is-error' : ''}`} style={{ width: `${Math.max(0.5, (r.durationNs / maxDur) * 100)}%` }} />
              </div>
              <div class="result-meta">
                <span>{fmtCount(r.spanCount)} spans</span>
                {r.errorSpanCount > 0 && <span class="badge badge-error">{fmtCount(r.errorSpanCount)} errors</span>}
                <span class="chips">
                  {r.services.slice(0, 12).map((s) => (
                    <ServiceChip key={s.name} service={s.name} count={s.spanCount} errors={s.errorSpanCount} />
                  ))}
                  {r.services.length > 12 && <span class="muted">+{r.services.length - 12} more</span>}
                </span>
                <span class="spacer" />
                <span class="muted" title={fmtTime(r.startMs)}>{fmtRelative(r.startMs)}</span>
                <span class="mono muted">{r.traceId.slice(0, 8)}</span>
              </div>
            </div>
          </li>
        ))}
      </ol>
    </>
  );
}
