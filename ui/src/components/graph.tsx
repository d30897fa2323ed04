// A directed graph of services, laid out in layers from the callers on the
// left to the callees on the right. Labels are SVG text nodes.
import { serviceColor } from '../colors';
import { useWidth } from './hooks';

export interface GNode {
  id: string;
  sub?: string;
  error?: boolean;
}
export interface GEdge {
  from: string;
  to: string;
  label: string;
  error?: boolean;
  width?: number; // 1..6
}

const NW = 164;
const NH = 46;
const GAPX = 150;
const GAPY = 26;

/** layout assigns each node a layer (longest path from a source) and a row. */
export function layout(nodes: GNode[], edges: GEdge[]): Map<string, { x: number; y: number }> {
  const out = new Map<string, string[]>();
  const indeg = new Map<string, number>();
  for (const n of nodes) {
    out.set(n.id, []);
    indeg.set(n.id, 0);
  }
  for (const e of edges) {
    if (e.from === e.to || !out.has(e.from) || !out.has(e.to)) continue;
    out.get(e.from)!.push(e.to);
  }
  // Drop back edges (DFS) so that cycles do not stretch the layers.
  const state = new Map<string, number>();
  const dag = new Map<string, string[]>();
  const dfs = (start: string) => {
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    dag.set(start, []);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const kids = out.get(top[0])!;
      if (top[1] >= kids.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const k = kids[top[1]++];
      const s = state.get(k) ?? 0;
      if (s === 1) continue; // back edge
      dag.get(top[0])!.push(k);
      if (s === 0) {
        state.set(k, 1);
        dag.set(k, []);
        stack.push([k, 0]);
      }
    }
  };
  for (const n of nodes) for (const k of out.get(n.id)!) indeg.set(k, (indeg.get(k) ?? 0) + 1);
  for (const n of nodes) if (indeg.get(n.id) === 0 && !state.has(n.id)) dfs(n.id);
  for (const n of nodes) if (!state.has(n.id)) dfs(n.id);
  // Longest-path layering over the DAG in topological order.
  const layer = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  const din = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  for (const ks of dag.values()) for (const k of ks) din.set(k, din.get(k)! + 1);
  const queue = nodes.filter((n) => din.get(n.id) === 0).map((n) => n.id);
  while (queue.length) {
    const id = queue.shift()!;
    for (const k of dag.get(id) ?? []) {
      layer.set(k, Math.max(layer.get(k)!, layer.get(id)! + 1));
      din.set(k, din.get(k)! - 1);
      if (din.get(k) === 0) queue.push(k);
    }
  }
  const layers: string[][] = [];
  for (const n of nodes) (layers[layer.get(n.id)!] ??= []).push(n.id);
  // Order each layer by the mean row of its callers (one barycentric pass).
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((ids, li) => {
    if (li > 0) {
      const bary = (id: string) => {
        const ys = edges.filter((e) => e.to === id && pos.has(e.from)).map((e) => pos.get(e.from)!.y);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 1e9;
      };
      ids.sort((a, b) => bary(a) - bary(b));
    }
    ids.forEach((id, r) => pos.set(id, { x: li * (NW + GAPX), y: r * (NH + GAPY) }));
  });
  return pos;
}

export function Graph({ nodes, edges, onNode, selected }: { nodes: GNode[]; edges: GEdge[]; onNode?: (id: string) => void; selected?: string }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const pos = layout(nodes, edges);
  let maxX = 0;
  let maxY = 0;
  for (const p of pos.values()) {
    maxX = Math.max(maxX, p.x + NW);
    maxY = Math.max(maxY, p.y + NH);
  }
  const pad = 24;
  // Wider than the page: scale the drawing down to fit rather than scroll.
  const cw = maxX + 2 * pad;
  const h = maxY + 2 * pad + 30;
  const scale = cw > width ? width / cw : 1;
  const w = cw > width ? cw : width;
  const ox = Math.max(pad, (w - maxX) / 2);
  const P = (id: string) => {
    const p = pos.get(id)!;
    return { x: p.x + ox, y: p.y + pad };
  };
  return (
    <div ref={ref} class="graph" data-testid="graph">
      <svg width={w * scale} height={h * scale} viewBox={`0 0 ${w} ${h}`} role="img" aria-label="Service graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
            <path d="M0,0L10,5L0,10z" class="arrow" />
          </marker>
          <marker id="arrow-err" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
            <path d="M0,0L10,5L0,10z" class="arrow-err" />
          </marker>
        </defs>
        {edges.map((e, k) => {
          if (!pos.has(e.from) || !pos.has(e.to)) return null;
          const a = P(e.from);
          const b = P(e.to);
          let d: string;
          let lx: number;
          let ly: number;
          if (e.from === e.to) {
            d = `M${a.x + NW - 30},${a.y}c0,-30 40,-30 30,0`;
            lx = a.x + NW - 10;
            ly = a.y - 26;
          } else if (b.x > a.x) {
            const x1 = a.x + NW;
            const y1 = a.y + NH / 2;
            const x2 = b.x;
            const y2 = b.y + NH / 2;
            const mx = (x1 + x2) / 2;
            d = `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`;
            lx = mx;
            ly = (y1 + y2) / 2 - 5;
          } else {
            // Back or same-layer edge: arc below.
            const x1 = a.x + NW / 2;
            const y1 = a.y + NH;
            const x2 = b.x + NW / 2;
            const y2 = b.y + NH;
            const dip = Math.max(y1, y2) + 40;
            d = `M${x1},${y1}C${x1},${dip} ${x2},${dip} ${x2},${y2 + 2}`;
            lx = (x1 + x2) / 2;
            ly = dip - 8;
          }
          return (
            <g key={k} class={`edge${e.error ? ' edge-error' : ''}`}>
              <path d={d} stroke-width={e.width ?? 1.5} marker-end={e.error ? 'url(#arrow-err)' : 'url(#arrow)'} />
              <text x={lx} y={ly} text-anchor="middle" class="edge-label">
                {e.label}
              </text>
            </g>
          );
        })}
        {nodes.map((n) => {
          const p = P(n.id);
          return (
            <g
              key={n.id}
              class={`node${n.error ? ' node-error' : ''}${selected === n.id ? ' node-selected' : ''}${onNode ? ' clickable' : ''}`}
              transform={`translate(${p.x},${p.y})`}
              onClick={() => onNode?.(n.id)}
              data-node={n.id}
            >
              <rect width={NW} height={NH} rx={8} />
              <rect width={6} height={NH} rx={3} fill={serviceColor(n.id)} />
              <text x={14} y={19} class="node-title">
                {n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}
              </text>
              {n.sub && (
                <text x={14} y={36} class="node-sub">
                  {n.sub}
                </text>
              )}
              <title>{n.id}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
