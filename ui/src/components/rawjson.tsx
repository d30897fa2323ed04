// The trace as JSON (OTLP from API v3, or Jaeger from API v1), with
// downloads. An uploaded trace shows the file as it was read.
import { useEffect, useState } from 'preact/hooks';
import { getText } from '../api';
import type { Trace } from '../trace/model';
import { useAsync } from './hooks';

const SHOW = 1 << 20;

export function RawJSON({ trace }: { trace: Trace }) {
  const [fmt, setFmt] = useState<'otlp' | 'jaeger'>('otlp');
  const id = encodeURIComponent(trace.traceID);
  const url = fmt === 'otlp' ? `/api/v3/traces/${id}` : `/api/traces/${id}`;
  const uploaded = trace.source === 'upload';
  const text = useAsync(uploaded ? `upload:${trace.traceID}` : url, async (signal) => {
    if (uploaded) return JSON.stringify(trace.raw ?? { note: 'the file held several traces' }, null, 2);
    return JSON.stringify(JSON.parse(await getText(url, signal)), null, 2);
  });
  const [blobURL, setBlobURL] = useState('');
  useEffect(() => {
    if (!uploaded || !text.data) return;
    const u = URL.createObjectURL(new Blob([text.data], { type: 'application/json' }));
    setBlobURL(u);
    return () => URL.revokeObjectURL(u);
  }, [uploaded, text.data]);
  return (
    <div class="card rawjson" data-testid="rawjson">
      <div class="flame-bar">
        {!uploaded && (
          <div class="seg" role="group" aria-label="Format">
            <button type="button" class={fmt === 'otlp' ? 'active' : ''} onClick={() => setFmt('otlp')}>OTLP (API v3)</button>
            <button type="button" class={fmt === 'jaeger' ? 'active' : ''} onClick={() => setFmt('jaeger')}>Jaeger (API v1)</button>
          </div>
        )}
        {uploaded && <span class="muted small">The uploaded file ({trace.fileName}); it is not stored on the server.</span>}
        <span class="spacer" />
        {uploaded ? (
          blobURL && <a class="btn" href={blobURL} download={`trace-${trace.traceID}.json`}>Download</a>
        ) : (
          <>
            <a class="btn" href={`/api/v3/traces/${id}`} download={`trace-${trace.traceID}.otlp.json`}>Download OTLP JSON</a>
            <a class="btn" href={`/api/traces/${id}`} download={`trace-${trace.traceID}.jaeger.json`}>Download Jaeger JSON</a>
          </>
        )}
      </div>
      {text.loading && <div class="loading">Loading…</div>}
      {text.error && <div class="error-box">{text.error}</div>}
      {text.data && (
        <>
          {text.data.length > SHOW && <div class="muted small">Showing the first MiB of {(text.data.length / SHOW).toFixed(1)} MiB; download for the rest.</div>}
          <pre class="json">{text.data.length > SHOW ? text.data.slice(0, SHOW) : text.data}</pre>
        </>
      )}
    </div>
  );
}
