// SPDX-License-Identifier: AGPL-3.0-or-later
/** `serve(opts)`: builds the shim and listens; used by `pve-dataplane serve` and `demo`. */
import { buildApp } from './app.js';
import { LOOPBACK_HOSTS, isLoopbackHost } from './host-guard.js';
import type { ShimOptions } from './options.js';

export interface ServeOptions extends ShimOptions {
  /** TCP port; 0 = any free port. Default 8080. */
  port?: number;
  /** Listen address. Default 127.0.0.1 (the shim holds a token: expose it deliberately). */
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
  // On loopback (the default) only loopback names are answered: DNS-rebinding guard.
  const allowedHosts = opts.allowedHosts !== undefined ? opts.allowedHosts : isLoopbackHost(host.toLowerCase()) ? LOOPBACK_HOSTS : null;
  const app = await buildApp({ ...opts, allowedHosts });
  await app.listen({ port, host });
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${actual}`, close: () => app.close() };
}
