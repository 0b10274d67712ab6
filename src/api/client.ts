// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PveClient`: the one way this project talks to `/api2/json`, in Node and in the browser.
 *
 * - answers are unwrapped from PVE's `{"data": ...}` envelope; failures become the typed errors
 *   of errors.ts, once, here;
 * - at most `concurrency` requests are on the wire at a time (PVE's pveproxy has few workers and a
 *   cluster-wide audit must not flood it);
 * - GETs are retried with exponential backoff on network errors, timeouts and unclassified 5xx;
 *   a write (POST/PUT/DELETE) is NEVER re-sent: its outcome after a lost answer is unknown, and
 *   the caller must re-read (the digest tells) before trying again.
 *
 * Transport details that are Node-only (TLS pinning agent) come in through `httpsAgent`, or as a
 * whole `transport` (src/node/http-transport.ts: Node's own http/https, without axios' per-request
 * cost, which was half the client's CPU per request of a 5,000-VM audit); the panel passes
 * fetch-transport.ts (the browser's `fetch`).
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import pLimit, { type LimitFunction } from 'p-limit';
import {
  type ApiToken,
  type PveAuth,
  TICKET_RENEW_AFTER_MS,
  type TicketResponse,
  type TicketState,
  parseApiToken,
  tokenHeader,
} from './auth.js';
import {
  type ConnectionFailure,
  PveApiError,
  PveAuthError,
  PveConnectionError,
  errorFromResponse,
} from './errors.js';
import { type Params, encodeParams } from './params.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PveClientOptions {
  /** `https://pve1:8006` (with or without `/api2/json`); `''` for same-origin use in the PVE UI. */
  baseUrl: string;
  auth: PveAuth;
  /** Requests on the wire at once. Default 4. */
  concurrency?: number;
  /** Per-request timeout in ms (whole request, not idle time). Default 30 000. */
  timeoutMs?: number;
  /** Extra attempts for a failed idempotent GET. Default 2. */
  retries?: number;
  /** First backoff delay in ms; doubles per attempt, with +-25 % jitter. Default 200. */
  retryDelayMs?: number;
  /** Node only: an https.Agent (see src/node/tls.ts) for CA / fingerprint / insecure TLS. */
  httpsAgent?: unknown;
  /** Node only: an http.Agent for plain-http URLs (simulator `--http`). */
  httpAgent?: unknown;
  /** Sends the requests instead of axios (then `httpsAgent`/`httpAgent` are the transport's business). */
  transport?: Transport;
  /** Renew a ticket this long after it was obtained (ms). Default 1 h (tickets live 2 h). */
  ticketRenewAfterMs?: number;
  /** Clock in ms since epoch (tests). */
  now?: () => number;
}

/** One HTTP exchange as a `Transport` sends it. */
export interface TransportRequest {
  method: HttpMethod;
  /** Absolute URL, query included. */
  url: string;
  headers: Record<string, string>;
  /** Form-encoded body (POST/PUT). */
  body?: string;
  /** No answer (no socket activity) for this long fails with `code` `ETIMEDOUT`, as axios does. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The answer of a `Transport`: every status resolves; network failures reject with Node's error (`code`). */
export interface TransportResponse {
  status: number;
  statusText: string;
  body: string;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides the client's per-request timeout (ms). */
  timeoutMs?: number;
  /**
   * The request waits for this to settle before it queues for a slot: requests that matter later
   * give the slots to those that matter now (the panel reads its risk evidence after the configs).
   */
  after?: PromiseLike<unknown>;
}

/** The full `/api2/json` answer, for endpoints whose `total` matters (task logs, syslog). */
export interface PveEnvelope<T> {
  data: T;
  total?: number;
  [member: string]: unknown;
}

/** Counters for benchmarks and tests. */
export interface PveClientStats {
  /** HTTP requests sent (each retry counts). */
  sent: number;
  /** Of those, retries. */
  retries: number;
}

const DEFAULTS = { concurrency: 4, timeoutMs: 30_000, retries: 2, retryDelayMs: 200 };

/** PVE API client. See the module comment for the guarantees. */
export class PveClient {
  /** `https://pve1:8006/api2/json` or `/api2/json`. */
  readonly apiBase: string;
  readonly concurrency: number;
  readonly stats: PveClientStats = { sent: 0, retries: 0 };

  private readonly http: AxiosInstance;
  private readonly transport: Transport | null;
  private readonly limit: LimitFunction;
  private readonly opts: Required<Pick<PveClientOptions, 'timeoutMs' | 'retries' | 'retryDelayMs' | 'ticketRenewAfterMs'>>;
  private readonly now: () => number;
  private readonly auth: PveAuth;
  private readonly token: ApiToken | null;
  private ticket: TicketState | null = null;
  /** An HTTP answer came back from apiBase: it speaks HTTP, so a later reset is not a TLS port. */
  private answered = false;
  private loginInFlight: Promise<TicketState> | null = null;

  constructor(options: PveClientOptions) {
    this.apiBase = normaliseApiBase(options.baseUrl);
    this.concurrency = options.concurrency ?? DEFAULTS.concurrency;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be an integer >= 1 (got ${String(options.concurrency)})`);
    }
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
      ticketRenewAfterMs: options.ticketRenewAfterMs ?? TICKET_RENEW_AFTER_MS,
    };
    this.now = options.now ?? Date.now;
    this.auth = options.auth;
    this.token = options.auth.kind === 'token' ? parseApiToken(options.auth.token) : null;
    this.limit = pLimit(this.concurrency);
    this.transport = options.transport ?? null;
    this.http = axios.create({
      baseURL: this.apiBase,
      // Every status is handled here: PVE's error text is in the reason phrase or the body.
      validateStatus: () => true,
      // Raw text: a bad token gets a 401 with an empty body and no Content-Type.
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      // Plain http/https transport (no follow-redirects layer); PVE never redirects the API.
      maxRedirects: 0,
      // The pinned/verified agent decides TLS; an HTTPS_PROXY from the environment would bypass it.
      proxy: false,
      withCredentials: options.auth.kind === 'same-origin',
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
      ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}),
      ...(options.httpAgent ? { httpAgent: options.httpAgent } : {}),
    });
  }

  /** Requests currently on the wire / waiting for a slot. */
  get inFlight(): number {
    return this.limit.activeCount;
  }

  get queued(): number {
    return this.limit.pendingCount;
  }

  /** `GET path` -> `data`. Retried on transient failures. */
  get<T>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, params, options);
  }

  /**
   * `GET path` -> the answer's JSON text, unparsed (the envelope included), for an answer too big
   * to parse in one go on a thread that also sends requests (see json-slices.ts). Retried and
   * failing like `get`; only the envelope check is left to the caller.
   */
  async getText(path: string, params?: Params, options: RequestOptions = {}): Promise<string> {
    return (await this.exchange<string>('GET', path, params, options, true)) as string;
  }

  /** `POST path` (form body) -> `data` (a UPID for async actions). Never re-sent. */
  post<T>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, params, options);
  }

  /** `PUT path` (form body) -> `data` (`null` for the synchronous config update). Never re-sent. */
  put<T>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, params, options);
  }

  /** `DELETE path` (parameters in the query string, as PVE reads them). Never re-sent. */
  delete<T>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, params, options);
  }

  /** Any method -> `data`. */
  async request<T>(method: HttpMethod, path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return (await this.requestEnvelope<T>(method, path, params, options)).data;
  }

  /** Any method -> the whole envelope (`data`, `total`, ...). */
  async requestEnvelope<T>(
    method: HttpMethod,
    path: string,
    params?: Params,
    options: RequestOptions = {},
  ): Promise<PveEnvelope<T>> {
    return (await this.exchange<T>(method, path, params, options, false)) as PveEnvelope<T>;
  }

  /** The request with its retries; `raw`: the text of a successful answer, unparsed. */
  private async exchange<T>(
    method: HttpMethod,
    path: string,
    params: Params | undefined,
    options: RequestOptions,
    raw: boolean,
  ): Promise<PveEnvelope<T> | string> {
    const retries = method === 'GET' ? this.opts.retries : 0;
    if (options.after) await settledOrAborted(options.after, options.signal, method, path);
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(options.signal, method, path);
      const headers = await this.authHeaders(method, options.signal);
      try {
        if (attempt > 0) this.stats.retries++;
        return await this.limit(() => this.sendOnce<T>(method, path, params, headers, options, raw));
      } catch (err) {
        if (attempt >= retries || !isTransient(err)) throw err;
        await sleep(backoffMs(this.opts.retryDelayMs, attempt), options.signal, method, path);
      }
    }
  }

  /**
   * Ticket mode: logs in now (otherwise the first request does). Returns PVE's answer.
   * @throws PveAuthError on bad credentials, or when a second factor is required
   */
  async login(signal?: AbortSignal): Promise<TicketResponse> {
    if (this.auth.kind !== 'ticket') throw new Error('login() needs ticket authentication');
    return this.postTicket(this.auth.password, signal);
  }

  /** Ticket mode: the ticket in use, or null before the first login. */
  get currentTicket(): Readonly<TicketState> | null {
    return this.ticket;
  }

  private async authHeaders(method: HttpMethod, signal?: AbortSignal): Promise<Record<string, string>> {
    switch (this.auth.kind) {
      case 'token':
        return { Authorization: tokenHeader(this.token!) };
      case 'same-origin': {
        const csrf = typeof this.auth.csrfToken === 'function' ? this.auth.csrfToken() : this.auth.csrfToken;
        return method !== 'GET' && csrf ? { CSRFPreventionToken: csrf } : {};
      }
      case 'held-ticket': {
        const t = await this.auth.current(signal);
        const headers: Record<string, string> = { Cookie: `PVEAuthCookie=${t.ticket}` };
        if (method !== 'GET') headers['CSRFPreventionToken'] = t.csrfToken;
        return headers;
      }
      case 'ticket': {
        const t = await this.validTicket(signal);
        const headers: Record<string, string> = isBrowser()
          ? // Browsers refuse a Cookie header; PVE also reads the ticket from Authorization.
            { Authorization: `PVEAuthCookie=${t.ticket}` }
          : { Cookie: `PVEAuthCookie=${t.ticket}` };
        if (method !== 'GET') headers['CSRFPreventionToken'] = t.csrfToken;
        return headers;
      }
    }
  }

  private async validTicket(signal?: AbortSignal): Promise<TicketState> {
    const t = this.ticket;
    if (t && this.now() - t.obtainedAt < this.opts.ticketRenewAfterMs) return t;
    if (!this.loginInFlight) {
      // A still-valid ticket is accepted as password and renews it; otherwise log in afresh.
      const auth = this.auth as Extract<PveAuth, { kind: 'ticket' }>;
      const renew = t
        ? this.postTicket(t.ticket, signal).catch((err: unknown) => {
            // An expired ticket cannot renew itself: log in with the password instead.
            if (err instanceof PveAuthError) return this.postTicket(auth.password, signal);
            throw err;
          })
        : this.postTicket(auth.password, signal);
      this.loginInFlight = renew
        .then(() => this.ticket!)
        .finally(() => {
          this.loginInFlight = null;
        });
    }
    return this.loginInFlight;
  }

  private async postTicket(password: string, signal?: AbortSignal): Promise<TicketResponse> {
    const auth = this.auth as Extract<PveAuth, { kind: 'ticket' }>;
    const params: Params = { username: auth.username, password };
    if (auth.realm) params['realm'] = auth.realm;
    if (auth.otp) params['otp'] = auth.otp;
    const res = (await this.limit(() =>
      this.sendOnce<TicketResponse>('POST', '/access/ticket', params, {}, { signal }),
    )) as PveEnvelope<TicketResponse>;
    const data = res.data;
    if (data.NeedTFA) {
      throw new PveAuthError({
        status: 401,
        text: `user ${auth.username} needs a second factor; use an API token (or pass otp) instead`,
        method: 'POST',
        path: '/access/ticket',
      });
    }
    this.ticket = {
      ticket: data.ticket,
      csrfToken: data.CSRFPreventionToken,
      username: data.username,
      obtainedAt: this.now(),
    };
    return data;
  }

  /** One HTTP exchange; runs inside a concurrency slot. */
  private async sendOnce<T>(
    method: HttpMethod,
    path: string,
    params: Params | undefined,
    headers: Record<string, string>,
    options: RequestOptions,
    raw = false,
  ): Promise<PveEnvelope<T> | string> {
    throwIfAborted(options.signal, method, path);
    const encoded = encodeParams(params);
    const inQuery = method === 'GET' || method === 'DELETE';
    const url = inQuery && encoded ? `${path}?${encoded}` : path;
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    this.stats.sent++;
    const requestHeaders = inQuery ? headers : { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' };
    let res: { status: number; statusText: string; data: string };
    try {
      res = this.transport
        ? await this.viaTransport(method, url, requestHeaders, inQuery ? undefined : encoded, timeoutMs, options.signal)
        : // axios' own timeout (Node: no socket activity for timeoutMs; browser: whole request): no
          // extra timer or AbortController per request, which matters at thousands of requests.
          await this.http.request<string>({
            method,
            url,
            headers: requestHeaders,
            data: inQuery ? undefined : encoded,
            timeout: timeoutMs,
            ...(options.signal ? { signal: options.signal } : {}),
          });
    } catch (err) {
      throw connectionError(err, method, path, { timeoutMs, aborted: options.signal?.aborted ?? false, apiBase: this.apiBase, answered: this.answered });
    }
    this.answered = true;
    if (raw && res.status >= 200 && res.status < 300) return res.data;
    const body = parseBody(res.data);
    if (res.status < 200 || res.status >= 300) {
      throw errorFromResponse(method, path, res.status, res.statusText ?? '', body);
    }
    if (body === undefined || body === null || typeof body !== 'object' || !('data' in body)) {
      throw new PveApiError({
        status: res.status,
        text: `answer is not a PVE API envelope ({"data": ...}); is ${this.apiBase} a PVE API endpoint?`,
        method,
        path,
      });
    }
    return body as PveEnvelope<T>;
  }

  private async viaTransport(
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; statusText: string; data: string }> {
    const req: TransportRequest = { method, url: `${this.apiBase}${url}`, headers, timeoutMs };
    if (body !== undefined) req.body = body;
    if (signal) req.signal = signal;
    const r = await this.transport!(req);
    return { status: r.status, statusText: r.statusText, data: r.body };
  }
}

/** `https://h:8006`, `https://h:8006/`, `https://h:8006/api2/json` -> `https://h:8006/api2/json`. */
export function normaliseApiBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/api2/json') ? trimmed : `${trimmed}/api2/json`;
}

function parseBody(text: unknown): unknown {
  if (typeof text !== 'string') return text ?? null;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** GET failures worth another attempt: the network, timeouts, and 5xx PVE did not explain. */
function isTransient(err: unknown): boolean {
  if (err instanceof PveConnectionError) return err.kind !== 'tls' && err.kind !== 'aborted';
  // Typed 5xx (missing config, lock, digest) are answers, not glitches: retrying cannot help.
  return err instanceof PveApiError && err.status >= 500 && err.constructor === PveApiError;
}

function backoffMs(base: number, attempt: number): number {
  const jitter = 0.75 + Math.random() * 0.5;
  return Math.round(base * 2 ** attempt * jitter);
}

function sleep(ms: number, signal: AbortSignal | undefined, method: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(method, path));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once `p` settles (either way); rejects as aborted when `signal` aborts first. */
function settledOrAborted(p: PromiseLike<unknown>, signal: AbortSignal | undefined, method: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(method, path));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    p.then(done, done);
  });
}

function throwIfAborted(signal: AbortSignal | undefined, method: string, path: string): void {
  if (signal?.aborted) throw abortedError(method, path);
}

function abortedError(method: string, path: string): PveConnectionError {
  return new PveConnectionError({ status: 0, text: 'Request aborted', method, path, kind: 'aborted', maybeSent: false });
}

function isBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

const CODE_KIND: Record<string, ConnectionFailure> = {
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  // Node's fetch (undici): the other side closed the socket before the answer was complete.
  UND_ERR_SOCKET: 'reset',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNABORTED: 'timeout',
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'refused',
  ENETUNREACH: 'refused',
  ENOTFOUND: 'refused',
  EAI_AGAIN: 'refused',
};

/**
 * A plain-http request to a TLS port (pveproxy only speaks https on 8006) ends in a reset, or in an
 * HTTP parse error when the server answers with a TLS alert: say so and give the https:// URL;
 * not once that base has answered over HTTP (a later reset is a dropped connection).
 */
function tlsPortHint(code: string, kind: ConnectionFailure, apiBase: string, answered: boolean): string {
  if (!apiBase.startsWith('http:') || answered) return '';
  if (kind !== 'reset' && !code.startsWith('HPE_')) return '';
  const https = new URL(apiBase);
  https.protocol = 'https:';
  return `; ${new URL(apiBase).host} looks like a TLS (https) port: use ${https.origin}`;
}

/** Maps a transport failure (axios / Node / our TLS agent) to a PveConnectionError. */
function connectionError(
  err: unknown,
  method: string,
  path: string,
  ctx: { timeoutMs: number; aborted: boolean; apiBase: string; answered: boolean },
): PveConnectionError {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code ?? '';
  const detail = e.cause?.message ?? e.message ?? String(err);
  const base = { method, path, cause: err, status: 0 };
  if (ctx.aborted) return abortedError(method, path);
  // axios' timeout (transitional.clarifyTimeoutError): ETIMEDOUT with "timeout of N ms exceeded".
  if (e.code === 'ETIMEDOUT' && !e.cause) {
    return new PveConnectionError({
      ...base,
      text: `Connection error - Timeout. (no answer within ${ctx.timeoutMs} ms)${
        method !== 'GET' ? '; the change may have been applied - re-read before retrying' : ''
      }`,
      kind: 'timeout',
      maybeSent: true,
    });
  }
  if (code.startsWith('DP_TLS_') || /CERT|SELF_SIGNED|TLS|SSL|EPROTO/.test(code)) {
    return new PveConnectionError({ ...base, text: `TLS error - ${detail}`, kind: 'tls', maybeSent: false });
  }
  const kind = CODE_KIND[code] ?? 'network';
  // A write whose answer was lost may or may not have been applied; it is never re-sent.
  const writeNote = method !== 'GET' && kind !== 'refused' ? '; the change may have been applied - re-read before retrying' : '';
  const what =
    kind === 'refused'
      ? 'server offline?'
      : kind === 'reset'
        ? 'connection reset'
        : kind === 'timeout'
          ? 'Timeout.'
          : 'network error';
  return new PveConnectionError({
    ...base,
    // Timeouts explain themselves (which phase, how long); other codes are enough on their own.
    text: `Connection error - ${what} (${kind === 'timeout' ? detail : code || detail})${tlsPortHint(code, kind, ctx.apiBase, ctx.answered)}${writeNote}`,
    kind,
    // A refused connection never carried the request; anything later might have.
    maybeSent: kind !== 'refused',
  });
}
