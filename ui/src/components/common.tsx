import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { serviceColor } from '../colors';
import { onLinkClick } from '../router';

/** Link is an <a> that navigates inside the app on a plain click. */
export function Link(props: { href: string; class?: string; title?: string; children: ComponentChildren; 'data-testid'?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={onLinkClick} data-testid={props['data-testid']}>
      {props.children}
    </a>
  );
}

export function Swatch({ service }: { service: string }) {
  return <span class="swatch" style={{ background: serviceColor(service) }} aria-hidden="true" />;
}

export function ServiceChip({ service, count, errors }: { service: string; count?: number; errors?: number }) {
  return (
    <span class={`chip${errors ? ' chip-error' : ''}`} title={errors ? `${service}: ${count} spans, ${errors} failed` : service}>
      <Swatch service={service} />
      <span class="chip-name">{service}</span>
      {count !== undefined && <span class="chip-count">{count}</span>}
    </span>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access is refused outside secure contexts: select instead.
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1200);
  };
  return (
    <button type="button" class="btn btn-small" onClick={copy} title={`Copy ${text}`}>
      {done ? 'Copied' : label}
    </button>
  );
}

export function ErrorBox({ title, message }: { title: string; message: string }) {
  return (
    <div class="error-box" role="alert">
      <strong>{title}</strong>
      <div>{message}</div>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <div class="loading" role="status">Loading {what}…</div>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}
