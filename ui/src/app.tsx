import { useRef, useState } from 'preact/hooks';
import { Link } from './components/common';
import { ComparePage } from './pages/compare';
import { SearchPage } from './pages/search';
import { ServicesPage } from './pages/services';
import { TracePage } from './pages/trace';
import { navigate, useLocation } from './router';
import { effectiveTheme, setTheme } from './theme';
import { uploadText } from './trace/load';

export function App() {
  const loc = useLocation();
  const [uploadError, setUploadError] = useState<string | null>(null);
  const parts = loc.path.split('/').filter(Boolean).map(decodeURIComponent);
  let page;
  let section = '';
  if (parts.length === 0 || (parts[0] === 'search' && parts.length === 1)) {
    page = <SearchPage query={loc.query} />;
    section = 'search';
  } else if (parts[0] === 'trace' && parts.length === 2) {
    page = <TracePage id={parts[1]} query={loc.query} />;
  } else if (parts[0] === 'compare' && parts.length === 3) {
    page = <ComparePage a={parts[1]} b={parts[2]} />;
  } else if (parts[0] === 'services' && parts.length === 1) {
    page = <ServicesPage query={loc.query} />;
    section = 'services';
  } else {
    page = (
      <div class="page">
        <h1>Not found</h1>
        <p>
          There is no page at this address. <Link href="/search">Search traces</Link>.
        </p>
      </div>
    );
  }
  const onUpload = (ids: string[]) => {
    setUploadError(null);
    navigate(ids.length === 2 ? `/compare/${ids[0]}/${ids[1]}` : `/trace/${ids[0]}`);
  };
  return (
    <div class="app">
      <header class="topbar">
        <Link href="/search" class="brand">
          <span class="brand-mark" aria-hidden="true" />
          Clew
        </Link>
        <nav class="nav" aria-label="Main">
          <Link href="/search" class={section === 'search' ? 'active' : ''}>Search</Link>
          <Link href="/services" class={section === 'services' ? 'active' : ''}>Services</Link>
        </nav>
        <TraceIdBox />
        <div class="topbar-right">
          <UploadButton onDone={onUpload} onError={setUploadError} />
          <ThemeToggle />
        </div>
      </header>
      {uploadError && (
        <div class="banner banner-error" role="alert">
          Could not read the file: {uploadError}
          <button type="button" class="btn btn-small" onClick={() => setUploadError(null)}>Dismiss</button>
        </div>
      )}
      <main class="main">{page}</main>
    </div>
  );
}

function TraceIdBox() {
  const [v, setV] = useState('');
  return (
    <form
      class="traceid-box"
      onSubmit={(e) => {
        e.preventDefault();
        const id = v.trim();
        if (id) navigate(`/trace/${encodeURIComponent(id)}`);
      }}
    >
      <input
        type="search"
        placeholder="Go to trace ID"
        aria-label="Go to trace ID"
        value={v}
        onInput={(e) => setV((e.target as HTMLInputElement).value)}
      />
    </form>
  );
}

function UploadButton({ onDone, onError }: { onDone: (ids: string[]) => void; onError: (m: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const read = async (f: File) => {
    try {
      const ids = uploadText(await f.text(), f.name);
      onDone(ids);
    } catch (e) {
      onError((e as Error).message);
    }
  };
  return (
    <>
      <button type="button" class="btn" onClick={() => input.current?.click()} title="View an OTLP or Jaeger JSON file without storing it">
        Upload JSON
      </button>
      <input
        ref={input}
        type="file"
        accept=".json,application/json"
        class="hidden"
        data-testid="upload-input"
        onChange={(e) => {
          const el = e.target as HTMLInputElement;
          const f = el.files?.[0];
          if (f) read(f);
          el.value = '';
        }}
      />
    </>
  );
}

function ThemeToggle() {
  const [t, setT] = useState(effectiveTheme);
  const next = t === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      class="btn btn-icon"
      aria-label={`Switch to the ${next} theme`}
      title={`Switch to the ${next} theme`}
      onClick={() => {
        setTheme(next);
        setT(next);
      }}
    >
      {t === 'dark' ? '☀' : '☾'}
    </button>
  );
}
