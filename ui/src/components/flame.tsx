// An icicle chart by time: the root on top, each level below its caller,
// widths proportional to duration. Click selects a span, double-click zooms.
import { useMemo, useState } from 'preact/hooks';
import { serviceColor } from '../colors';
import { fmtDuration } from '../format';
import type { Trace } from '../trace/model';
import { axisTicks } from './timeline';
import { useWidth } from './hooks';

const RH = 20;

export function Flame({ trace, selected, onSelect }: { trace: Trace; selected: number; onSelect: (i: number) => void }) {
  const [ref, width] = useWidth<HTMLDivElement>(900);
  const [view, setView] = useState<[number, number]>([trace.minStartNs, trace.maxEndNs]);
  const [v0, v1] = view;
  const span = Math.max(1, v1 - v0);
  const x = (t: number) => ((t - v0) / span) * width;
  // Only spans at least a third of a pixel wide are drawn: at 20,000 spans
  // the rest would be invisible anyway.
  const shown = useMemo(() => {
    const out: number[] = [];
    trace.rows.forEach((r, i) => {
      if (r.startNs + r.durationNs < v0 || r.startNs > v1) return;
      if ((r.durationNs / span) * width >= 0.33) out.push(i);
    });
    return out;
  }, [trace, v0, v1, width]);
  const h = (trace.maxDepth + 1) * RH + 24;
  const ticks = axisTicks(v0, v1, Math.max(2, Math.floor(width / 120)));
  return (
    <div class="flame card" data-testid="flame">
      <div class="flame-bar">
        <span class="muted small">
          Icicle by time: {shown.length.toLocaleString('en-US')} of {trace.rows.length.toLocaleString('en-US')} spans wide enough to draw. Click selects; double-click zooms.
        </span>
        <span class="spacer" />
        {(v0 !== trace.minStartNs || v1 !== trace.maxEndNs) && (
          <button type="button" class="btn btn-small" onClick={() => setView([trace.minStartNs, trace.maxEndNs])}>Reset zoom</button>
        )}
      </div>
      <div ref={ref} class="flame-scroll">
        <svg width={width} height={h} role="img" aria-label="Flame graph">
          {ticks.map((t) => (
            <g key={t}>
              <line class="grid" x1={x(t)} x2={x(t)} y1={16} y2={h} />
              <text class="axis-label" x={x(t) + 3} y={12}>{fmtDuration(t)}</text>
            </g>
          ))}
          {shown.map((i) => {
            const r = trace.rows[i];
            const rx = Math.max(0, x(r.startNs));
            const rw = Math.max(1, Math.min(width, x(r.startNs + r.durationNs)) - rx);
            const label = `${r.service} ${r.name}`;
            const chars = Math.floor((rw - 8) / 6.6);
            return (
              <g
                key={i}
                class={`fl${i === selected ? ' selected' : ''}${r.error ? ' is-error' : ''}${r.criticalNs > 0 ? ' is-crit' : ''}`}
                transform={`translate(${rx},${20 + r.depth * RH})`}
                onClick={() => onSelect(i)}
                onDblClick={() => setView([r.startNs, r.startNs + Math.max(r.durationNs, 1)])}
                data-row={i}
              >
                <rect width={rw} height={RH - 2} rx={2} fill={serviceColor(r.service)} />
                {chars >= 3 && (
                  <text x={4} y={13}>
                    {label.length > chars ? `${label.slice(0, chars - 1)}…` : label}
                  </text>
                )}
                <title>{`${label} — ${fmtDuration(r.durationNs)}${r.error ? ' (error)' : ''}`}</title>
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}
