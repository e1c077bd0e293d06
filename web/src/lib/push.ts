// Push client for the raw websocket at /sockjs/websocket: one JSON object per
// frame. It authenticates with the login record's name and session, and
// reconnects with a growing delay when the socket drops.

export type PushHandler = (type: string, payload: unknown) => void;

export interface PushOptions {
  /** Called with every server message, `{"<type>": payload}` split apart. */
  onMessage: PushHandler;
  /** Called when the socket opens or closes. */
  onStatus: (connected: boolean) => void;
  /** Returns "name:session" for the auth message, or null to stay anonymous. */
  credentials: () => string | null;
}

export class Push {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay = 500;
  private stopped = true;
  private opts: PushOptions;

  constructor(opts: PushOptions) {
    this.opts = opts;
  }

  /** Opens the socket (closing any previous one). */
  start(): void {
    this.stop();
    this.stopped = false;
    this.open();
  }

  /** Closes the socket and cancels reconnects. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }

  /** Sends a client message such as `{"throttle":2}`. */
  send(msg: unknown): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private open(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${location.host}/sockjs/websocket`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      const cred = this.opts.credentials();
      if (cred) ws.send(JSON.stringify({ auth: cred }));
      this.opts.onStatus(true);
    };
    ws.onmessage = (e) => {
      let msg: unknown;
      try {
        msg = JSON.parse(typeof e.data === 'string' ? e.data : '');
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      for (const [type, payload] of Object.entries(msg as Record<string, unknown>)) {
        this.opts.onMessage(type, payload);
      }
    };
    ws.onclose = () => {
      this.ws = null;
      this.opts.onStatus(false);
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, 10000);
  }
}
