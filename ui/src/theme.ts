// Light and dark themes: the system's preference unless the person chose
// one with the toggle (remembered in localStorage).
export type Theme = 'light' | 'dark';

const key = 'clew-theme';

export function storedTheme(): Theme | null {
  try {
    const t = localStorage.getItem(key);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

export function effectiveTheme(): Theme {
  return storedTheme() ?? (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

export function applyTheme(): void {
  const t = storedTheme();
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

export function setTheme(t: Theme): void {
  try {
    localStorage.setItem(key, t);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.dataset.theme = t;
}
