// REST client: JSON in and out, session cookie plus the CSRF double-submit
// header on every state-changing request. No API key ever lives in the page.

export class ApiError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Returns the CSRF token from the `csrf_token` cookie (any port suffix). */
export function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === 'csrf_token' || name.startsWith('csrf_token_P')) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return '';
}

type UnauthorizedHook = () => void;
let onUnauthorized: UnauthorizedHook = () => {};

/** Registers what happens when the server says the session is gone (401). */
export function setUnauthorizedHook(hook: UnauthorizedHook): void {
  onUnauthorized = hook;
}

function headers(method: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrfToken();
    if (t) h['X-CSRF-Token'] = t;
  }
  return h;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && typeof body.error === 'string' && body.error) msg = body.error;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, msg);
}

/**
 * Calls the API. Resolves with the decoded JSON body (or undefined for an
 * empty body) and rejects with ApiError carrying the server's message.
 */
export async function call<T = unknown>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean } = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: headers(method, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) onUnauthorized();
    throw await errorFrom(res);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T = unknown>(path: string) => call<T>('GET', path);
export const post = <T = unknown>(path: string, body?: unknown) => call<T>('POST', path, body ?? {});

/** Sends `{"command": name, ...args}` to a command endpoint. */
export const command = <T = unknown>(path: string, name: string, args: Record<string, unknown> = {}) =>
  call<T>('POST', path, { command: name, ...args });

/**
 * Uploads with multipart/form-data through XMLHttpRequest so progress can be
 * reported (fetch has no upload progress). Resolves with the JSON response.
 */
export function upload<T = unknown>(
  path: string,
  fields: Record<string, string | Blob>,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (v instanceof File) form.append(k, v, v.name);
      else form.append(k, v);
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    const t = csrfToken();
    if (t) xhr.setRequestHeader('X-CSRF-Token', t);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as T);
      } else {
        if (xhr.status === 401) onUnauthorized();
        const msg = (body as { error?: string } | undefined)?.error || `upload failed: ${xhr.status}`;
        reject(new ApiError(xhr.status, msg));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'upload failed: network error'));
    xhr.onabort = () => reject(new ApiError(0, 'upload cancelled'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

/** Encodes a storage path for use in a URL, keeping the slashes. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
