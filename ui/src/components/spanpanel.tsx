// The detail of one span: everything in it, rendered as text.
import type { AbnormalSpan, Explanation } from '../api';
import { fmtDuration } from '../format';
import type { Attr, Row, SpanDetail, Trace } from '../trace/model';
import { CopyButton, Link, ServiceChip } from './common';

function AttrTable({ attrs, testid }: { attrs: Attr[]; testid?: string }) {
  if (attrs.length === 0) return <div class="muted small">none</div>;
  return (
    <table class="attrs" data-testid={testid}>
      <tbody>
        {attrs.map((a, k) => (
          <tr key={k}>
            <th scope="row">{a.key}</th>
            <td>{a.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface SpanPanelProps {
  trace: Trace;
  row: Row;
  index: number;
  detail: SpanDetail | undefined;
  detailsError: string | null;
  explain: Explanation | null;
  abnormal: AbnormalSpan | undefined;
  onSelect: (i: number) => void;
  onClose: () => void;
}

export function SpanPanel({ trace, row, index, detail, detailsError, explain, abnormal, onSelect, onClose }: SpanPanelProps) {
  const parent = row.parent >= 0 ? trace.rows[row.parent] : null;
  const origin = row.errorOrigin ? explain?.errorOrigin : null;
  const spanStart = detail?.startNano ?? null;
  const offset = (t: bigint) => (spanStart !== null ? fmtDuration(Number(t - spanStart)) : '');
  return (
    <aside class="span-panel card" aria-label="Span details" data-testid="span-panel">
      <div class="panel-head">
        <h3 class="span-title">{row.name}</h3>
        <button type="button" class="btn btn-icon" onClick={onClose} aria-label="Close span details">×</button>
      </div>
      <div class="panel-sub">
        <ServiceChip service={row.service} />
        <span class="badge">{row.kind || 'unspecified'}</span>
        {row.error ? <span class="badge badge-error">error</span> : detail?.statusCode === 'ok' ? <span class="badge badge-ok">ok</span> : null}
        {row.criticalNs > 0 && <span class="badge badge-crit">critical path</span>}
      </div>
      {row.error && (row.message || detail?.statusMessage) && <div class="status-msg">{detail?.statusMessage || row.message}</div>}
      {origin && (
        <div class="callout callout-error" data-testid="origin-callout">
          <strong>The error started here.</strong>{' '}
          {origin.exceptionType && <span class="mono">{origin.exceptionType}: </span>}
          {origin.message}
          {origin.errorChain.length > 0 && (
            <div class="small">
              It propagated up through {origin.errorChain.length} span{origin.errorChain.length === 1 ? '' : 's'}
              {origin.reachedRoot ? ' to the root' : ''}.
            </div>
          )}
        </div>
      )}
      {abnormal && (
        <div class="callout callout-slow">
          <strong>Slower than usual:</strong> {fmtDuration(abnormal.durationNs)} against a p99 of {fmtDuration(abnormal.baselineP99Ns)} (p50{' '}
          {fmtDuration(abnormal.baselineP50Ns)}, {abnormal.samples} samples; {abnormal.timesP50.toFixed(1)}× the median).
        </div>
      )}
      {row.skewNs !== 0 && (
        <div class="callout callout-warn">
          Clock skew: this span was moved by {row.skewNs > 0 ? '+' : ''}
          {fmtDuration(row.skewNs)} to fit inside its caller, whose clock differs.
        </div>
      )}
      {row.orphan && <div class="callout callout-warn">Its parent span {row.parentSpanID} is not in the trace: shown under the root.</div>}
      <dl class="facts">
        <dt>Start</dt>
        <dd>{fmtDuration(row.startNs)} after the trace start</dd>
        <dt>Duration</dt>
        <dd>{fmtDuration(row.durationNs)}</dd>
        <dt>Self time</dt>
        <dd>{fmtDuration(row.selfTimeNs)}</dd>
        {row.criticalNs > 0 && (
          <>
            <dt>On critical path</dt>
            <dd>{fmtDuration(row.criticalNs)}</dd>
          </>
        )}
        <dt>Span ID</dt>
        <dd>
          <span class="mono">{row.spanID}</span> <CopyButton text={row.spanID} />
        </dd>
        {row.parentSpanID && (
          <>
            <dt>Parent</dt>
            <dd>
              {parent ? (
                <button type="button" class="linklike" onClick={() => onSelect(row.parent)}>
                  {parent.service} {parent.name}
                </button>
              ) : (
                <span class="mono">{row.parentSpanID}</span>
              )}
            </dd>
          </>
        )}
        {detail?.scope.name && (
          <>
            <dt>Scope</dt>
            <dd>
              {detail.scope.name}
              {detail.scope.version && ` ${detail.scope.version}`}
            </dd>
          </>
        )}
      </dl>
      {!detail && (detailsError ? <div class="muted small">Span details unavailable: {detailsError}</div> : <div class="muted small">Loading attributes…</div>)}
      {detail && (
        <>
          <h4>Attributes</h4>
          <AttrTable attrs={detail.attributes} testid="span-attributes" />
          {detail.events.length > 0 && (
            <>
              <h4>Events ({detail.events.length})</h4>
              <ol class="events">
                {detail.events.map((e, k) => {
                  const stack = e.attributes.find((a) => a.key === 'exception.stacktrace');
                  const rest = e.attributes.filter((a) => a !== stack);
                  return (
                    <li key={k} class={e.name === 'exception' ? 'event-exception' : ''}>
                      <div>
                        <span class="mono small muted">+{offset(e.timeNano)}</span> <strong>{e.name}</strong>
                      </div>
                      <AttrTable attrs={rest} />
                      {stack && <pre class="stack">{stack.value}</pre>}
                    </li>
                  );
                })}
              </ol>
            </>
          )}
          {detail.links.length > 0 && (
            <>
              <h4>Links ({detail.links.length})</h4>
              <ul class="links">
                {detail.links.map((l, k) => {
                  const local = l.traceID === trace.traceID ? trace.index.get(l.spanID) : undefined;
                  return (
                    <li key={k}>
                      {local !== undefined ? (
                        <button type="button" class="linklike" onClick={() => onSelect(local)}>
                          {trace.rows[local].service} {trace.rows[local].name}
                        </button>
                      ) : (
                        <Link href={`/trace/${encodeURIComponent(l.traceID)}?span=${encodeURIComponent(l.spanID)}`}>
                          trace {l.traceID.slice(0, 12)}… span {l.spanID}
                        </Link>
                      )}
                      {l.attributes.length > 0 && <AttrTable attrs={l.attributes} />}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
          <details>
            <summary>Resource ({detail.resource.length})</summary>
            <AttrTable attrs={detail.resource} />
          </details>
          {detail.scope.attributes.length > 0 && (
            <details>
              <summary>Scope attributes ({detail.scope.attributes.length})</summary>
              <AttrTable attrs={detail.scope.attributes} />
            </details>
          )}
        </>
      )}
      <div class="muted small panel-foot">Row {index + 1} · ↑↓ move · ←→ fold · Enter hides this panel</div>
    </aside>
  );
}
