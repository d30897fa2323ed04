// A stable color per service: the same service has the same color on every
// page, so a person learns them. Red is left out: it means "error".
const palette = [
  '#4e79a7', '#f28e2b', '#59a14f', '#76b7b2', '#b07aa1', '#edc948', '#9c755f', '#5b8ff9',
  '#61b88f', '#8e6cce', '#3fb1d8', '#e89a5a', '#008685', '#d48bb4', '#a0a83a', '#7f8fa6',
];

const cache = new Map<string, string>();

export function serviceColor(service: string): string {
  let c = cache.get(service);
  if (c === undefined) {
    // FNV-1a over UTF-16 code units.
    let h = 0x811c9dc5;
    for (let i = 0; i < service.length; i++) {
      h ^= service.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    c = palette[(h >>> 0) % palette.length];
    cache.set(service, c);
  }
  return c;
}
