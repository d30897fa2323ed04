// Duration over time of search results: one point per trace; failed
// traces are red diamonds. A click opens the trace.
import { fmtClock, fmtDuration, niceTicks } from '../format';
import { navigate } from '../router';
import { useWidth } from './hooks';

export interface Point {
  id: string;
  timeMs: number;
  durationNs: number;
  error: boolean;
  label: string;
}

export function Scatter({ points }: { points: Point[] }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const h = 170;
  const m = { l: 64, r: 16, t: 12, b: 26 };
  const iw = Math.max(10, width - m.l - m.r);
  const ih = h - m.t - m.b;
  let t0 = Infinity;
  let t1 = -Infinity;
  let dmax = 0;
  for (const p of points) {
    t0 = Math.min(t0, p.timeMs);
    t1 = Math.max(t1, p.timeMs);
    dmax = Math.max(dmax, p.durationNs);
  }
  if (!(t1 > t0)) {
    t0 -= 30000;
    t1 += 30000;
  }
  const pad = (t1 - t0) * 0.03;
  t0 -= pad;
  t1 += pad;
  const yt = niceTicks(dmax * 1.05 || 1, 4);
  const ymax = yt[yt.length - 1] || 1;
  const x = (t: number) => m.l + ((t - t0) / (t1 - t0)) * iw;
  const y = (d: number) => m.t + ih - (d / ymax) * ih;
  const xticks = Array.from({ length: 6 }, (_, i) => t0 + ((t1 - t0) * (i + 0.5)) / 6);
  const span = t1 - t0;
  return (
    <div ref={ref} class="scatter" data-testid="scatter">
      <svg width={width} height={h} role="img" aria-label="Trace durations over time">
        {yt.map((v) => (
          <g key={v}>
            <line class="grid" x1={m.l} x2={m.l + iw} y1={y(v)} y2={y(v)} />
            <text class="axis-label" x={m.l - 6} y={y(v) + 4} text-anchor="end">
              {fmtDuration(v)}
            </text>
          </g>
        ))}
        {xticks.map((t) => (
          <text key={t} class="axis-label" x={x(t)} y={h - 8} text-anchor="middle">
            {fmtClock(t, span < 6 * 3600e3)}
          </text>
        ))}
        {points.map((p) =>
          p.error ? (
            <path
              key={p.id}
              class="pt pt-error"
              d={`M${x(p.timeMs)},${y(p.durationNs) - 6}l6,6l-6,6l-6,-6z`}
              onClick={() => navigate(`/trace/${p.id}`)}
              data-trace={p.id}
            >
              <title>{`${p.label} — ${fmtDuration(p.durationNs)}, failed`}</title>
            </path>
          ) : (
            <circle key={p.id} class="pt" cx={x(p.timeMs)} cy={y(p.durationNs)} r={5} onClick={() => navigate(`/trace/${p.id}`)} data-trace={p.id}>
              <title>{`${p.label} — ${fmtDuration(p.durationNs)}`}</title>
            </circle>
          ),
        )}
      </svg>
    </div>
  );
}
