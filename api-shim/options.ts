// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The shim's options, checked up front: every bad value throws one sentence naming the option
 * and what to do (the `@fastify/http-proxy` `src/options.js` habit), before anything listens.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiToken, TICKET_RENEW_AFTER_MS, parseApiToken } from '../src/api/auth.js';
import type { EngineOptions } from '../src/migration/runner.js';
import { stateDir } from '../src/node/state-dir.js';
import { normaliseFingerprint } from '../src/node/tls.js';

/** PVE tickets live 2 h (pve-access-control `$ticket_lifetime`). */
export const TICKET_LIFETIME_MS = 2 * 3600 * 1000;

/**
 * Upstream requests per user: 6 at once (pveproxy runs 3 workers per node; the panel's own client
 * uses about as many), 500 per second: with 6 in flight that only binds when PVE answers in under
 * 12 ms, so one user cannot burst past pveproxy, while a 5,000-VM audit is paced by PVE's latency, not
 * by us (at 100/s the 5,000-VM panel load took 65 s against a 12.5 s bound; BENCHMARKS.md).
 */
export const DEFAULT_LIMITS = { concurrency: 6, perSecond: 500, loginsPerMinute: 10, headersTimeoutMs: 10_000, connectionsPerAddress: 128, connections: 1024 } as const;

/** Upstream request timeout (ms). PVE's syslog and rrddata calls on a big node take seconds. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

export interface ShimOptions {
  /** PVE base URL, `https://pve1:8006` (a trailing `/api2/json` is accepted). */
  upstream: string;
  /** API token `USER@REALM!TOKENID=SECRET`; it stays in this process. Not used in login mode. */
  token?: string;
  /** Pin PVE's certificate by SHA-256 fingerprint (`AA:BB:...`). */
  fingerprint?: string;
  /** Trust these CA certificates (PEM) instead of the system store. */
  ca?: string;
  /** Skip TLS verification (never with `fingerprint`). */
  insecure?: boolean;
  /** Refuse every non-GET before it reaches PVE. */
  readOnly?: boolean;
  /** Directory of the built panel (`dist/panel`); `null` serves no panel (API only). */
  panelDir: string | null;
  /** Upstream request timeout (ms). Default 60 000. */
  upstreamTimeoutMs?: number;
  /** Fastify's request log. Default off. */
  logger?: boolean;
  /** Where warnings (`--insecure`) go. Default stderr. */
  warn?: (line: string) => void;
  /**
   * Host names (without port) the shim answers to besides the loopback names; others get 403
   * `DP_HOST_NOT_ALLOWED` on every route, so a page on another domain that re-resolves its name
   * to this address (DNS rebinding) cannot use the shim. Needed to listen beyond loopback.
   */
  allowedHosts?: readonly string[];
  /** The CSRF token writes must carry (tests); default: random per process. */
  csrfToken?: string;
  /** Where plans, jobs (journals) and the audit log of writes live; default the CLI's state directory. */
  stateDir?: string;
  /**
   * PVE login mode: users sign in with their own PVE account through the shim, every upstream
   * call runs with their ticket; no API token is needed.
   */
  login?: boolean;
  /** Engine timing knobs of jobs (tests, benchmarks): poll interval, power timeouts. */
  jobEngine?: Partial<EngineOptions>;
  /** Serve HTTPS with this certificate and key (PEM); login-mode session cookies are then `Secure`. */
  tls?: { cert: string; key: string };
  /** Login mode: renew a user's PVE ticket this long after it was issued (ms). Default 1 h (tickets live 2 h). */
  ticketRenewAfterMs?: number;
  /**
   * Per user (login mode) or for the token: upstream requests at once, and per second; login
   * attempts per client address and minute; the time a client has from connecting (or from its
   * previous answer) to the end of a request's headers, in ms (slowloris: Node's default is 60 s,
   * checked every 30 s, so a connection that trickles bytes held a socket for up to 90 s); client
   * connections open at once from one address (an IPv6 /64) and in total (api-shim/connection-limit.ts).
   */
  limits?: { concurrency?: number; perSecond?: number; loginsPerMinute?: number; headersTimeoutMs?: number; connectionsPerAddress?: number; connections?: number };
  /** Clock in epoch ms (tests move it to expire tickets). Default Date.now. */
  now?: () => number;
}

/** Options after validation. */
export interface ResolvedShimOptions {
  upstream: URL;
  /** null in login mode. */
  token: ApiToken | null;
  fingerprint: string | null;
  ca: string | null;
  insecure: boolean;
  readOnly: boolean;
  panelDir: string | null;
  upstreamTimeoutMs: number;
  logger: boolean;
  warn: (line: string) => void;
  /** Lower-case names from `allowedHosts` (the loopback names are always answered). */
  allowedHosts: ReadonlySet<string>;
  csrfToken: string;
  stateDir: string;
  login: boolean;
  jobEngine?: Partial<EngineOptions>;
  tls: { cert: string; key: string } | null;
  ticketRenewAfterMs: number;
  limits: { concurrency: number; perSecond: number; loginsPerMinute: number; headersTimeoutMs: number; connectionsPerAddress: number; connections: number };
  now: () => number;
}

/** A bad shim option; the message names it. */
export class ShimOptionsError extends Error {
  override name = 'ShimOptionsError';
}

/** A host name or IP address as `--allowed-host` takes it: no port, no scheme, no wildcard. */
function checkAllowedHost(name: string): string {
  const h = name.trim().toLowerCase();
  const ipv6 = /^\[[0-9a-f:.]+\]$/.test(h);
  if (!ipv6 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h)) {
    throw new ShimOptionsError(`--allowed-host '${name}': expected a host name or address without port or scheme, e.g. pve-tools.example.com or [2001:db8::1]`);
  }
  return h;
}

/**
 * Validates `opts`.
 * @throws ShimOptionsError naming the option and what to do
 */
export function resolveShimOptions(opts: ShimOptions): ResolvedShimOptions {
  if (typeof opts.upstream !== 'string' || opts.upstream.trim() === '') {
    throw new ShimOptionsError('upstream is required: the PVE URL, e.g. https://pve1:8006');
  }
  let upstream: URL;
  try {
    upstream = new URL(opts.upstream.trim());
  } catch {
    throw new ShimOptionsError(`upstream '${opts.upstream}' is not a URL such as https://pve1:8006`);
  }
  if (upstream.protocol !== 'https:' && upstream.protocol !== 'http:') {
    throw new ShimOptionsError(`upstream '${opts.upstream}' must use https (or http for a local simulator)`);
  }
  if (upstream.username || upstream.password) {
    throw new ShimOptionsError('upstream must not contain credentials; pass the API token as token (--token-file)');
  }
  if (upstream.search || upstream.hash) {
    throw new ShimOptionsError(`upstream '${opts.upstream}' must not have a query or fragment`);
  }
  // The proxy adds /api2/json itself.
  upstream.pathname = upstream.pathname.replace(/\/+$/, '').replace(/\/api2\/json$/, '') || '/';

  let token: ApiToken | null = null;
  if (opts.login === true) {
    // Each user's own ticket is the credential; a token would let anyone act as its owner.
    if (opts.token !== undefined) throw new ShimOptionsError('login mode uses each user\'s own PVE login; do not also pass an API token (--token-file)');
  } else {
    if (typeof opts.token !== 'string' || opts.token.trim() === '') {
      throw new ShimOptionsError('token is required: USER@REALM!TOKENID=SECRET (--token-file FILE), or --login for PVE login mode');
    }
    try {
      token = parseApiToken(opts.token);
    } catch (err) {
      throw new ShimOptionsError(`token: ${(err as Error).message}`);
    }
  }
  const renewAfter = opts.ticketRenewAfterMs ?? TICKET_RENEW_AFTER_MS;
  if (!Number.isInteger(renewAfter) || renewAfter < 1000 || renewAfter >= TICKET_LIFETIME_MS) {
    throw new ShimOptionsError(`ticketRenewAfterMs must be whole ms from 1000 to below the 2 h ticket lifetime (got ${String(opts.ticketRenewAfterMs)})`);
  }
  const concurrency = opts.limits?.concurrency ?? DEFAULT_LIMITS.concurrency;
  const perSecond = opts.limits?.perSecond ?? DEFAULT_LIMITS.perSecond;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ShimOptionsError(`limits.concurrency must be a whole number >= 1 (got ${String(concurrency)})`);
  if (!(perSecond > 0)) throw new ShimOptionsError(`limits.perSecond must be a number > 0 (got ${String(perSecond)})`);
  const loginsPerMinute = opts.limits?.loginsPerMinute ?? DEFAULT_LIMITS.loginsPerMinute;
  if (!Number.isInteger(loginsPerMinute) || loginsPerMinute < 1) throw new ShimOptionsError(`limits.loginsPerMinute must be a whole number >= 1 (got ${String(loginsPerMinute)})`);
  const headersTimeoutMs = opts.limits?.headersTimeoutMs ?? DEFAULT_LIMITS.headersTimeoutMs;
  if (!Number.isInteger(headersTimeoutMs) || headersTimeoutMs < 100) {
    throw new ShimOptionsError(`limits.headersTimeoutMs must be whole ms >= 100 (got ${String(headersTimeoutMs)})`);
  }
  const connectionsPerAddress = opts.limits?.connectionsPerAddress ?? DEFAULT_LIMITS.connectionsPerAddress;
  const connections = opts.limits?.connections ?? DEFAULT_LIMITS.connections;
  for (const [name, n] of [['connectionsPerAddress', connectionsPerAddress], ['connections', connections]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new ShimOptionsError(`limits.${name} must be a whole number >= 1 (got ${String(n)})`);
  }

  let fingerprint: string | null = null;
  if (opts.fingerprint !== undefined && opts.fingerprint !== '') {
    try {
      fingerprint = normaliseFingerprint(opts.fingerprint);
    } catch (err) {
      throw new ShimOptionsError(`fingerprint: ${(err as Error).message}`);
    }
  }
  if (fingerprint && opts.insecure) {
    throw new ShimOptionsError('fingerprint and insecure exclude each other: a pinned certificate is already verified');
  }
  if (upstream.protocol === 'http:' && (fingerprint || opts.ca)) {
    throw new ShimOptionsError(`fingerprint/ca need an https upstream; '${upstream.origin}' is plain http`);
  }

  const timeout = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new ShimOptionsError(`upstreamTimeoutMs must be a whole number of ms >= 1 (got ${String(opts.upstreamTimeoutMs)})`);
  }

  if (opts.panelDir === undefined) {
    throw new ShimOptionsError('panelDir is required: the built panel directory (dist/panel), or null to serve the API only');
  }
  if (opts.panelDir !== null) {
    if (!existsSync(opts.panelDir) || !statSync(opts.panelDir).isDirectory()) {
      throw new ShimOptionsError(`panel directory '${opts.panelDir}' does not exist: run \`npm run build\` first`);
    }
    if (!existsSync(join(opts.panelDir, 'index.html'))) {
      throw new ShimOptionsError(`panel directory '${opts.panelDir}' has no index.html: run \`npm run build\` first`);
    }
  }

  return {
    upstream,
    token,
    fingerprint,
    ca: opts.ca ?? null,
    insecure: opts.insecure === true,
    readOnly: opts.readOnly === true,
    panelDir: opts.panelDir,
    upstreamTimeoutMs: timeout,
    logger: opts.logger === true,
    warn: opts.warn ?? ((l) => void process.stderr.write(`pve-dataplane: ${l}\n`)),
    allowedHosts: new Set((opts.allowedHosts ?? []).map(checkAllowedHost)),
    csrfToken: opts.csrfToken ?? randomBytes(24).toString('base64url'),
    stateDir: opts.stateDir ?? stateDir(),
    login: opts.login === true,
    ...(opts.jobEngine ? { jobEngine: opts.jobEngine } : {}),
    tls: opts.tls ?? null,
    ticketRenewAfterMs: renewAfter,
    limits: { concurrency, perSecond, loginsPerMinute, headersTimeoutMs, connectionsPerAddress, connections },
    now: opts.now ?? Date.now,
  };
}
