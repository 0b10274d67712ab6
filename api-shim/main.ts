// SPDX-License-Identifier: AGPL-3.0-or-later
/** `serve(opts)`: builds the shim and listens; used by `pve-dataplane serve` and `demo`. */
import { buildApp } from './app.js';
import { isLoopbackHost } from './host-guard.js';
import { type ShimOptions, ShimOptionsError, resolveShimOptions } from './options.js';
import { checkUpstream } from './startup-check.js';

export interface ServeOptions extends ShimOptions {
  /** Check PVE before listening (TLS, token or login endpoint). Default true. */
  checkUpstream?: boolean;
  /** TCP port; 0 = any free port. Default 8080. */
  port?: number;
  /**
   * Listen address. Default 127.0.0.1. Any other address needs login mode (each user signs in
   * with their own PVE account) and `allowedHosts` (the names users reach it by).
   */
  host?: string;
}

export interface RunningShim {
  /** `http://127.0.0.1:8080` */
  url: string;
  close(): Promise<void>;
}

/** Starts the shim; resolves once it listens. */
export async function serve(opts: ServeOptions): Promise<RunningShim> {
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0-65535 (got ${String(opts.port)})`);
  const host = opts.host ?? '127.0.0.1';
  checkBind(host, opts);
  const resolved = resolveShimOptions(opts);
  if (opts.checkUpstream !== false) await checkUpstream(resolved);
  const app = await buildApp(opts);
  await app.listen({ port, host });
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `${opts.tls ? 'https' : 'http'}://${shownHost}:${actual}`, close: () => app.close() };
}

/**
 * Who may reach the shim: in token mode, only this machine (the token is the shim's, not the
 * user's: anyone who reaches it acts with it). Beyond loopback each user must sign in as
 * themselves, and the names they use must be listed (DNS-rebinding guard).
 * @throws ShimOptionsError naming what is missing
 */
export function checkBind(host: string, opts: Pick<ShimOptions, 'login' | 'allowedHosts' | 'tls'>): void {
  if (isLoopbackHost(host)) return;
  if (!opts.login) {
    throw new ShimOptionsError(
      `--host ${host}: with an API token the shim listens on loopback only (anyone who reaches it would act with the token); ` +
        'to serve a team use PVE login mode (--login, each user signs in with their own PVE account) and --allowed-host NAME',
    );
  }
  if (!opts.allowedHosts || opts.allowedHosts.length === 0) {
    throw new ShimOptionsError(`--host ${host}: name the host names users reach the shim by with --allowed-host NAME... (DNS-rebinding guard)`);
  }
  if (!opts.tls) {
    throw new ShimOptionsError(`--host ${host}: users send their PVE password to the shim; beyond loopback it must serve HTTPS (--tls-cert FILE --tls-key FILE)`);
  }
}
