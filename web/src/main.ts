import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { bootstrap, setTheme } from './lib/state.svelte';

let theme: 'auto' | 'light' | 'dark' = 'auto';
try {
  const t = localStorage.getItem('cuttle.theme');
  if (t === 'light' || t === 'dark') theme = t;
} catch {
  /* private mode */
}
setTheme(theme);

// The signed-in interface loads alongside the session check; the login page needs none of it.
const shell = import('./Shell.svelte');
mount(App, { target: document.getElementById('app')!, props: { shell } });
void bootstrap();
