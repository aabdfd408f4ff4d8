// Drives one proxy negotiation for a socket: credentials, the retry after a
// proxyAuthenticationRequired slot supplied new ones, and the time-out. The
// socket owns the connection; this owns the protocol's progress.
import { SocketError } from '../enums';
import type { SocketFailure } from '../errors';
import { QAuthenticator, QNetworkProxy } from '../network-proxy';
import type { NegotiatorFactory, ProxyCredentials, ProxyNegotiator, ProxyTarget } from './negotiator';

/** What a tunnel needs from the socket it serves. */
export interface TunnelHost {
  /** Sends raw bytes to the proxy; false when the connection failed (the socket has reported it). */
  _tunnelWrite(data: Buffer): boolean;
  /** The tunnel is up; `leftover` bytes already belong to the destination. */
  _tunnelUp(leftover: Buffer): void;
  _tunnelFailed(failure: SocketFailure): void;
  /** Opens a fresh connection to the proxy; begin() follows once it is up. */
  _tunnelReconnect(): void;
  /** Emits proxyAuthenticationRequired(proxy, authenticator). */
  _tunnelAskCredentials(proxy: QNetworkProxy, authenticator: QAuthenticator): void;
}

/** How many times credentials are asked for before giving up. */
const MAX_AUTH_ROUNDS = 3;

export const ProxyMsg = {
  refused: 'Connection to proxy refused',
  closed: 'Connection to proxy closed prematurely',
  timeout: 'Proxy server connection timed out',
  notFound: 'Proxy host not found',
  authRequired: 'Proxy authentication required',
} as const;

export class ProxyTunnel {
  readonly proxy: QNetworkProxy;
  target: ProxyTarget;
  #factory: NegotiatorFactory;
  #host: TunnelHost;
  #timeoutMs: number;
  #credentials: ProxyCredentials | null;
  #negotiator: ProxyNegotiator | null = null;
  #timer: NodeJS.Timeout | null = null;
  #authRounds = 0;
  #tried = new Set<string>();
  #cancelled = false;
  #deadline = 0;

  constructor(proxy: QNetworkProxy, target: ProxyTarget, factory: NegotiatorFactory, timeoutMs: number, host: TunnelHost) {
    this.proxy = proxy;
    this.target = target;
    this.#factory = factory;
    this.#timeoutMs = timeoutMs;
    this.#host = host;
    this.#credentials = proxy.user() !== '' ? { user: proxy.user(), password: proxy.password() } : null;
  }

  /** True between begin() and the end of the negotiation. */
  isNegotiating(): boolean {
    return this.#negotiator !== null;
  }

  /** The TCP connection to the proxy is up: say the first words. */
  begin(): void {
    const n = this.#factory(this.target, this.#credentials);
    this.#negotiator = n;
    if (this.#credentials) this.#tried.add(`${this.#credentials.user}\0${this.#credentials.password}`);
    if (n.startFailure) {
      // The destination cannot be said in this protocol (an over-long name, say).
      this.#finish();
      this.#host._tunnelFailed(n.startFailure);
      return;
    }
    this.#armTimer();
    this.#host._tunnelWrite(n.start());
  }

  /** Bytes from the proxy. */
  feed(data: Buffer): void {
    let step = this.#negotiator?.feed(data);
    // A send with `more` means the proxy's next answer is already buffered:
    // keep going without waiting for bytes that have already arrived.
    while (step !== undefined && 'send' in step) {
      if (!this.#host._tunnelWrite(step.send) || !step.more || this.#negotiator === null) return;
      step = this.#negotiator.feed(Buffer.alloc(0));
    }
    if (step === undefined) return;
    if ('wait' in step) {
      return;
    } else if ('done' in step) {
      this.#finish();
      this.#host._tunnelUp(step.leftover);
    } else if ('fail' in step) {
      this.#finish();
      this.#host._tunnelFailed({ error: step.error, message: step.message });
    } else if ('authenticate' in step) {
      this.#finish();
      this.#authenticate();
    }
  }

  /** The proxy closed the connection before the tunnel was up. */
  closed(): void {
    if (this.#negotiator === null) return;
    this.#finish();
    this.#host._tunnelFailed({ error: SocketError.ProxyConnectionClosedError, message: ProxyMsg.closed });
  }

  /** The socket gave up (abort, close): no timer may fire later, nothing is retried. */
  cancel(): void {
    this.#cancelled = true;
    this.#finish();
  }

  /** Milliseconds left of the negotiation's time-out (for the blocking waits, where no timer fires). */
  timeLeft(): number {
    return this.#negotiator === null ? -1 : Math.max(0, Math.ceil(this.#deadline - performance.now()));
  }

  /** Fails the negotiation with ProxyConnectionTimeoutError if its time is up; says whether it did. */
  expireIfDue(): boolean {
    if (this.#negotiator === null || performance.now() < this.#deadline) return false;
    this.#finish();
    this.#host._tunnelFailed({ error: SocketError.ProxyConnectionTimeoutError, message: ProxyMsg.timeout });
    return true;
  }

  #authenticate(): void {
    this.#authRounds++;
    // The authenticator starts with what was tried, so a slot that leaves it
    // alone (or no slot at all) means "no new credentials".
    const auth = new QAuthenticator();
    if (this.#credentials) {
      auth.setUser(this.#credentials.user);
      auth.setPassword(this.#credentials.password);
    }
    if (this.#authRounds <= MAX_AUTH_ROUNDS) this.#host._tunnelAskCredentials(this.proxy, auth);
    if (this.#cancelled) return; // a slot aborted the socket
    const key = `${auth.user()}\0${auth.password()}`;
    // Retry only with credentials not tried yet, and only a few times: wrong
    // credentials are never retried forever.
    if (this.#authRounds > MAX_AUTH_ROUNDS || auth.user() === '' || this.#tried.has(key)) {
      this.#host._tunnelFailed({ error: SocketError.ProxyAuthenticationRequiredError, message: ProxyMsg.authRequired });
      return;
    }
    this.#credentials = { user: auth.user(), password: auth.password() };
    this.#host._tunnelReconnect();
  }

  #armTimer(): void {
    this.#clearTimer();
    this.#deadline = performance.now() + this.#timeoutMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#negotiator === null) return;
      this.#negotiator = null;
      this.#host._tunnelFailed({ error: SocketError.ProxyConnectionTimeoutError, message: ProxyMsg.timeout });
    }, this.#timeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #finish(): void {
    this.#negotiator = null;
    this.#clearTimer();
  }
}
