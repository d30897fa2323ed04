// An overview of the whole trace above the timeline: drag across it to
// zoom the bars to a time range; double-click to see everything again.
import { useEffect, useRef, useState } from 'preact/hooks';
import { serviceColor } from '../colors';
import type { Trace } from '../trace/model';

const H = 40;

export function Minimap({ trace, view, onView, width }: { trace: Trace; view: [number, number]; onView: (v: [number, number]) => void; width: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drag, setDrag] = useState<[number, number] | null>(null);
  const lo = trace.minStartNs;
  const total = Math.max(1, trace.maxEndNs - lo);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(H * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, width, H);
    const rows = trace.rows;
    const rh = Math.max(H / Math.max(rows.length, 1), 0.25);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      ctx.fillStyle = r.error ? '#d64545' : serviceColor(r.service);
      const x = ((r.startNs - lo) / total) * width;
      const w = Math.max(1, (r.durationNs / total) * width);
      ctx.fillRect(x, (i / rows.length) * H, w, Math.max(1, rh));
    }
  }, [trace, width]);

  const toNs = (clientX: number, el: HTMLElement) => {
    const b = el.getBoundingClientRect();
    return lo + Math.max(0, Math.min(1, (clientX - b.left) / b.width)) * total;
  };
  const sel = drag ?? view;
  const a = Math.min(sel[0], sel[1]);
  const b = Math.max(sel[0], sel[1]);
  const zoomed = drag !== null || view[0] > lo || view[1] < trace.maxEndNs;
  return (
    <div
      class="minimap"
      style={{ height: `${H}px` }}
      title="Drag to zoom; double-click to reset"
      onPointerDown={(e) => {
        const el = e.currentTarget as HTMLElement;
        el.setPointerCapture(e.pointerId);
        const t = toNs(e.clientX, el);
        setDrag([t, t]);
      }}
      onPointerMove={(e) => drag && setDrag([drag[0], toNs(e.clientX, e.currentTarget as HTMLElement)])}
      onPointerUp={() => {
        if (drag) {
          const x0 = Math.min(drag[0], drag[1]);
          const x1 = Math.max(drag[0], drag[1]);
          if (x1 - x0 > total / 1000) onView([x0, x1]);
        }
        setDrag(null);
      }}
      onDblClick={() => onView([lo, trace.maxEndNs])}
    >
      <canvas ref={canvas} style={{ width: `${width}px`, height: `${H}px` }} />
      {zoomed && (
        <>
          <div class="minimap-shade" style={{ left: 0, width: `${((a - lo) / total) * 100}%` }} />
          <div class="minimap-shade" style={{ left: `${((b - lo) / total) * 100}%`, right: 0 }} />
          <div class="minimap-window" style={{ left: `${((a - lo) / total) * 100}%`, width: `${((b - a) / total) * 100}%` }} />
        </>
      )}
    </div>
  );
}
