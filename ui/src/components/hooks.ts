import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** useWidth measures an element's width and follows its changes. */
export function useWidth<T extends HTMLElement>(fallback = 800): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setW(el.clientWidth || fallback);
    const ro = new ResizeObserver(() => setW(el.clientWidth || fallback));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

/** useAsync runs a loader whenever key changes, aborting the previous run. */
export function useAsync<T>(key: string, load: (signal: AbortSignal) => Promise<T>): { data: T | null; error: string | null; loading: boolean } {
  const [st, setSt] = useState<{ data: T | null; error: string | null; loading: boolean; key: string }>({ data: null, error: null, loading: true, key });
  useEffect(() => {
    const ac = new AbortController();
    setSt((s) => ({ data: s.key === key ? s.data : null, error: null, loading: true, key }));
    load(ac.signal).then(
      (data) => !ac.signal.aborted && setSt({ data, error: null, loading: false, key }),
      (e: Error) => !ac.signal.aborted && setSt({ data: null, error: e.message, loading: false, key }),
    );
    return () => ac.abort();
  }, [key]);
  return st;
}
