// /services?service=&lookback=: the system's dependency graph from a sample
// of recent traces, and rate, errors and duration of one service.
import { getJSON, operations, services, type Red, type ServiceGraph } from '../api';
import { Empty, ErrorBox, Link, Loading, Swatch } from '../components/common';
import { Graph } from '../components/graph';
import { useAsync, useWidth } from '../components/hooks';
import { fmtClock, fmtCount, fmtDuration, fmtPercent, niceTicks } from '../format';
import { navigate, qs } from '../router';

const windows: [string, string][] = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['48h', 'Last 2 days'],
];

export function ServicesPage({ query }: { query: URLSearchParams }) {
  const lookback = windows.some(([w]) => w === query.get('lookback')) ? query.get('lookback')! : '1h';
  const service = query.get('service') ?? '';
  const go = (v: Record<string, string>) => navigate(`/services${qs({ service, lookback, ...v })}`, true);
  const graph = useAsync(`sg:${lookback}`, (s) => getJSON<ServiceGraph>(`/api/clew/servicegraph${qs({ lookback })}`, s));
  const svcs = useAsync('services', services);
  return (
    <div class="page services-page">
      <div class="page-head">
        <h1>Services</h1>
        <span class="spacer" />
        <label class="inline">
          Window
          <select value={lookback} onChange={(e) => go({ lookback: (e.target as HTMLSelectElement).value })}>
            {windows.map(([w, l]) => (
              <option key={w} value={w}>{l}</option>
            ))}
          </select>
        </label>
      </div>
      <section class="card" aria-label="Dependency graph">
        <h2>Dependencies</h2>
        {graph.loading && <Loading what="the service graph" />}
        {graph.error && <ErrorBox title="No service graph" message={graph.error} />}
        {graph.data && <DependencyGraph g={graph.data} selected={service} onNode={(s) => go({ service: s })} />}
      </section>
      <div class="services-split">
        <nav class="card service-list" aria-label="Services">
          <h2>All services</h2>
          {svcs.data?.length === 0 && <Empty>No services yet.</Empty>}
          <ul>
            {(svcs.data ?? []).map((s) => (
              <li key={s}>
                <button type="button" class={`linklike${s === service ? ' active' : ''}`} onClick={() => go({ service: s })}>
                  <Swatch service={s} /> {s}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <section class="card service-detail" aria-label="Service health">
          {service ? <ServiceRED service={service} lookback={lookback} /> : <Empty>Pick a service to see its rate, errors and duration.</Empty>}
        </section>
      </div>
    </div>
  );
}

function DependencyGraph({ g, selected, onNode }: { g: ServiceGraph; selected: string; onNode: (s: string) => void }) {
  const names = new Set<string>();
  for (const e of g.edges) {
    names.add(e.parent);
    names.add(e.child);
  }
  if (names.size === 0) return <Empty>No calls between services in this window.</Empty>;
  const maxCalls = Math.max(1, ...g.edges.map((e) => e.callCount));
  const errs = new Map<string, number>();
  for (const e of g.edges) errs.set(e.child, (errs.get(e.child) ?? 0) + e.errorCount);
  return (
    <>
      <p class="muted small">
        {g.sampleLimit === 0 ? 'Every call of the window.' : `From ${fmtCount(g.tracesRead)} traces${g.complete ? '' : ` (the newest ${fmtCount(g.sampleLimit)}; older calls are not counted)`}.`} Edge labels: calls · p99 of the callee. Click a service.
      </p>
      <Graph
        nodes={[...names].sort().map((n) => ({ id: n, error: (errs.get(n) ?? 0) > 0, sub: errs.get(n) ? `${fmtCount(errs.get(n)!)} failed call${errs.get(n) === 1 ? '' : 's'}` : undefined }))}
        edges={g.edges.map((e) => ({
          from: e.parent, to: e.child, error: e.errorCount > 0, width: 1.2 + (4 * e.callCount) / maxCalls,
          label: `${fmtCount(e.callCount)} · p99 ${fmtDuration(e.p99Ns)}${e.errorCount ? ` · ${fmtPercent(e.errorCount / e.callCount)} err` : ''}`,
        }))}
        onNode={onNode}
        selected={selected}
      />
    </>
  );
}

function ServiceRED({ service, lookback }: { service: string; lookback: string }) {
  const red = useAsync(`red:${service}:${lookback}`, (s) => getJSON<Red>(`/api/clew/red${qs({ service, lookback })}`, s));
  const ops = useAsync(`opsred:${service}:${lookback}`, async (s) => {
    const names = (await operations(service, s)).slice(0, 15);
    const out: { name: string; red: Red | null }[] = [];
    // Two at a time: each answer reads a sample of traces.
    for (let i = 0; i < names.length; i += 2) {
      const part = await Promise.all(
        names.slice(i, i + 2).map((op) => getJSON<Red>(`/api/clew/red${qs({ service, operation: op, lookback })}`, s).then((r) => ({ name: op, red: r }), () => ({ name: op, red: null }))),
      );
      out.push(...part);
    }
    return out;
  });
  const lb = lookback === '48h' ? '2d' : lookback;
  return (
    <>
      <div class="page-head">
        <h2>
          <Swatch service={service} /> {service}
        </h2>
        <span class="spacer" />
        <Link href={`/search${qs({ service, lookback: lb })}`} class="btn">Traces</Link>
        <Link href={`/search${qs({ service, lookback: lb, tags: 'error=true' })}`} class="btn">Failed traces</Link>
      </div>
      {red.loading && <Loading what="rate, errors and duration" />}
      {red.error && <ErrorBox title="No data" message={red.error} />}
      {red.data && (
        <>
          {!red.data.complete && <p class="muted small">From the newest {fmtCount(red.data.sampleLimit)} traces of the window: older buckets are under-counted.</p>}
          <div class="red-charts" data-testid="red-charts">
            <Chart title="Requests per second" red={red.data} series={[{ label: 'rate', get: (b) => b.ratePerSecond, cls: 's-rate' }]} fmt={fmtRate} />
            <Chart title="Error ratio" red={red.data} series={[{ label: 'errors', get: (b) => b.errorRatio, cls: 's-err' }]} fmt={fmtPercent} />
            <Chart
              title="Duration"
              red={red.data}
              series={[
                { label: 'p50', get: (b) => b.p50Ns, cls: 's-p50' },
                { label: 'p95', get: (b) => b.p95Ns, cls: 's-p95' },
                { label: 'p99', get: (b) => b.p99Ns, cls: 's-p99' },
              ]}
              fmt={fmtDuration}
            />
          </div>
        </>
      )}
      <h3>Operations</h3>
      {ops.loading && <Loading what="operations" />}
      {ops.error && <ErrorBox title="No operations" message={ops.error} />}
      {ops.data && (
        <table class="table" data-testid="operations">
          <thead>
            <tr><th>Operation</th><th class="num">Spans</th><th class="num">Rate/s</th><th class="num">Errors</th><th class="num">p50</th><th class="num">p99</th><th /></tr>
          </thead>
          <tbody>
            {ops.data.map(({ name, red }) => {
              const t = totals(red);
              return (
                <tr key={name}>
                  <td>{name}</td>
                  <td class="num">{red ? fmtCount(t.count) : '–'}</td>
                  <td class="num">{red ? t.rate.toFixed(2) : '–'}</td>
                  <td class={`num${t.errors ? ' text-error' : ''}`}>{red ? fmtPercent(t.count ? t.errors / t.count : 0) : '–'}</td>
                  <td class="num">{red && t.count ? fmtDuration(t.p50) : '–'}</td>
                  <td class="num">{red && t.count ? fmtDuration(t.p99) : '–'}</td>
                  <td><Link href={`/search${qs({ service, operation: name, lookback: lb })}`}>traces →</Link></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

/** totals sums a RED answer's buckets; latency is the count-weighted mean of the bucket quantiles (an approximation). */
function totals(r: Red | null) {
  let count = 0;
  let errors = 0;
  let p50 = 0;
  let p99 = 0;
  for (const b of r?.buckets ?? []) {
    count += b.count;
    errors += b.errorCount;
    p50 += b.p50Ns * b.count;
    p99 = Math.max(p99, b.p99Ns);
  }
  const secs = r ? (r.endUnixNano - r.startUnixNano) / 1e9 : 1;
  return { count, errors, rate: count / Math.max(1, secs), p50: count ? p50 / count : 0, p99 };
}

function fmtRate(v: number): string {
  if (v === 0) return '0';
  if (v >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(2)));
}

interface Series {
  label: string;
  get: (b: Red['buckets'][number]) => number;
  cls: string;
}

function Chart({ title, red, series, fmt }: { title: string; red: Red; series: Series[]; fmt: (v: number) => string }) {
  const [ref, width] = useWidth<HTMLDivElement>(300);
  const h = 150;
  const m = { l: 56, r: 8, t: 8, b: 22 };
  const iw = Math.max(10, width - m.l - m.r);
  const ih = h - m.t - m.b;
  const bs = red.buckets;
  let max = 0;
  for (const b of bs) for (const s of series) max = Math.max(max, s.get(b) || 0);
  const yt = niceTicks(max || 1, 3);
  const ymax = yt[yt.length - 1] || 1;
  const t0 = red.startUnixNano / 1e6;
  const t1 = red.endUnixNano / 1e6;
  const x = (ms: number) => m.l + ((ms - t0) / Math.max(1, t1 - t0)) * iw;
  const y = (v: number) => m.t + ih - (v / ymax) * ih;
  const half = red.stepNs / 2e6;
  return (
    <div class="chart" ref={ref}>
      <div class="chart-title">
        {title}
        <span class="chart-legend">
          {series.length > 1 && series.map((s) => <span key={s.label} class={`lg ${s.cls}`}>{s.label}</span>)}
        </span>
      </div>
      <svg width={width} height={h} role="img" aria-label={title}>
        {yt.map((v) => (
          <g key={v}>
            <line class="grid" x1={m.l} x2={m.l + iw} y1={y(v)} y2={y(v)} />
            <text class="axis-label" x={m.l - 5} y={y(v) + 4} text-anchor="end">{fmt(v)}</text>
          </g>
        ))}
        {[0, 0.5, 1].map((f) => (
          <text key={f} class="axis-label" x={m.l + f * iw} y={h - 6} text-anchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}>
            {fmtClock(t0 + f * (t1 - t0), false)}
          </text>
        ))}
        {series.map((s) => {
          // Latency has no value in an empty bucket: those are gaps, and
          // every bucket with data also gets a dot, so lone buckets show.
          const all = s.label === 'rate' || s.label === 'errors';
          const kept = bs.filter((b) => all || b.count > 0);
          const pts = kept.map((b) => `${x(b.startUnixNano / 1e6 + half).toFixed(1)},${y(s.get(b) || 0).toFixed(1)}`);
          return (
            <g key={s.label}>
              <polyline class={`line ${s.cls}`} points={pts.join(' ')} />
              {kept.filter((b) => b.count > 0).map((b) => (
                <circle key={b.startUnixNano} class={`dot ${s.cls}`} cx={x(b.startUnixNano / 1e6 + half)} cy={y(s.get(b) || 0)} r={2.5} />
              ))}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

