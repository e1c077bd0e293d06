// Client-side routes: the server answers index.html for every path that is
// not an API, so /files or /settings can be bookmarked and reloaded.

export const tabs = [
  { path: '/', label: 'Dashboard' },
  { path: '/files', label: 'Files' },
  { path: '/control', label: 'Control' },
  { path: '/terminal', label: 'Terminal' },
  { path: '/webcam', label: 'Webcam' },
  { path: '/settings', label: 'Settings' },
] as const;

export const route = $state({ path: normalize(location.pathname) });

function normalize(p: string): string {
  const t = tabs.find((x) => x.path !== '/' && (p === x.path || p.startsWith(x.path + '/')));
  return t ? t.path : '/';
}

/** Switches to a tab and records it in the browser history. */
export function navigate(path: string): void {
  const p = normalize(path);
  if (p !== route.path) {
    history.pushState(null, '', p);
    route.path = p;
  }
}

addEventListener('popstate', () => (route.path = normalize(location.pathname)));
