// Statistics per service and operation: count, errors, total, self, avg, max.
import { useMemo, useState } from 'preact/hooks';
import { fmtCount, fmtDuration, fmtPercent } from '../format';
import type { Trace } from '../trace/model';
import { Swatch } from './common';

interface Stat {
  service: string;
  name: string;
  count: number;
  errors: number;
  total: number;
  self: number;
  max: number;
}

const cols: [keyof Stat | 'avg', string][] = [
  ['service', 'Service'],
  ['name', 'Operation'],
  ['count', 'Spans'],
  ['errors', 'Errors'],
  ['total', 'Total'],
  ['self', 'Self'],
  ['avg', 'Avg'],
  ['max', 'Max'],
];

export function Stats({ trace }: { trace: Trace }) {
  const [sort, setSort] = useState<[string, boolean]>(['self', true]);
  const [byService, setByService] = useState(false);
  const stats = useMemo(() => {
    const m = new Map<string, Stat>();
    for (const r of trace.rows) {
      const k = byService ? r.service : `${r.service}\u0000${r.name}`;
      let s = m.get(k);
      if (!s) m.set(k, (s = { service: r.service, name: byService ? '' : r.name, count: 0, errors: 0, total: 0, self: 0, max: 0 }));
      s.count++;
      if (r.error) s.errors++;
      s.total += r.durationNs;
      s.self += r.selfTimeNs;
      s.max = Math.max(s.max, r.durationNs);
    }
    return [...m.values()];
  }, [trace, byService]);
  const totalSelf = stats.reduce((a, s) => a + s.self, 0) || 1;
  const [key, desc] = sort;
  const val = (s: Stat) => (key === 'avg' ? s.total / s.count : (s as any)[key]);
  const sorted = stats.slice().sort((a, b) => {
    const x = val(a);
    const y = val(b);
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return desc ? -c : c;
  });
  return (
    <div class="card stats" data-testid="stats">
      <div class="flame-bar">
        <label class="inline small">
          <input type="checkbox" checked={byService} onChange={() => setByService(!byService)} /> Per service only
        </label>
      </div>
      <table class="table">
        <thead>
          <tr>
            {cols.filter(([k]) => !(byService && k === 'name')).map(([k, label]) => (
              <th key={k} class={k === 'service' || k === 'name' ? '' : 'num'} aria-sort={key === k ? (desc ? 'descending' : 'ascending') : undefined}>
                <button type="button" class="th-btn" onClick={() => setSort([k, key === k ? !desc : k !== 'service' && k !== 'name'])}>
                  {label}
                  {key === k ? (desc ? ' ↓' : ' ↑') : ''}
                </button>
              </th>
            ))}
            <th class="num">Self share</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((s) => (
            <tr key={`${s.service}\u0000${s.name}`}>
              <td>
                <Swatch service={s.service} /> {s.service}
              </td>
              {!byService && <td>{s.name}</td>}
              <td class="num">{fmtCount(s.count)}</td>
              <td class={`num${s.errors ? ' text-error' : ''}`}>{s.errors ? fmtCount(s.errors) : ''}</td>
              <td class="num">{fmtDuration(s.total)}</td>
              <td class="num">{fmtDuration(s.self)}</td>
              <td class="num">{fmtDuration(s.total / s.count)}</td>
              <td class="num">{fmtDuration(s.max)}</td>
              <td class="num">
                <span class="share">
                  <span class="share-bar" style={{ width: `${(s.self / totalSelf) * 100}%` }} />
                </span>
                {fmtPercent(s.self / totalSelf)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
