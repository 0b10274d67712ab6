// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PveClient`'s transport on the platform's `fetch` (the browser's; Node's too): what axios does
 * for the client (one request, the whole answer as text, every status resolved, no redirect
 * followed, a timeout), without axios' XMLHttpRequest wrapper, which cost the panel ~1 ms of its
 * main thread per request: at 5,000 VMs, seconds during which no new request left.
 *
 * Credentials: the browser's own (`same-origin`: PVEAuthCookie inside the PVE UI, the shim's
 * session cookie standalone); cross-origin use sends them too when asked (`credentials`).
 */
import type { Transport } from './client.js';

export interface FetchTransportOptions {
  /** `include` to send cookies cross-origin; default `same-origin`. */
  credentials?: RequestCredentials;
  /** Another `fetch` (tests). */
  fetch?: typeof fetch;
}

/** A transport over `fetch`. */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const credentials = options.credentials ?? 'same-origin';
  return async (req) => {
    // The timeout and the caller's abort both end the request; which one did is told apart below.
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, req.timeoutMs);
    const onAbort = (): void => ctl.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) ctl.abort();
    try {
      const init: RequestInit = {
        method: req.method,
        headers: { Accept: 'application/json', ...req.headers },
        credentials,
        // PVE never redirects the API; a redirect is somebody else answering.
        redirect: 'manual',
        // An answer of a previous load is never the truth about a config.
        cache: 'no-store',
        signal: ctl.signal,
      };
      if (req.body !== undefined) init.body = req.body;
      const res = await send(req.url, init);
      // A browser hides a redirect it did not follow (status 0): say what happened instead.
      if (res.type === 'opaqueredirect') {
        return { status: 0, statusText: `redirected away from ${req.url}; the PVE API never redirects: is this a PVE API endpoint?`, body: '' };
      }
      const body = await res.text();
      return { status: res.status, statusText: res.statusText, body };
    } catch (err) {
      // As axios' `timeout`: code ETIMEDOUT and no cause (the client words it with its limit).
      if (timedOut) throw Object.assign(new Error(`timeout of ${req.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' });
      throw err;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  };
}
