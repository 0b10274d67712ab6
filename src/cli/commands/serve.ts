// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane serve`: the api-shim in front of a real PVE. It serves the web panel, forwards
 * the audit's reads (and only those) with the token held here or, with `--login`, with each
 * signed-in user's own PVE ticket, and with `--read-only` refuses every write. Runs until
 * SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { serve, type RunningShim } from '../../../api-shim/main.js';
import { ShimOptionsError } from '../../../api-shim/options.js';
import { UpstreamCheckError } from '../../../api-shim/startup-check.js';
import { defaultPanelDir } from '../../../api-shim/panel-dir.js';
import { parseApiToken } from '../../api/auth.js';
import { readTokenFile } from '../../node/token-file.js';
import { UsageError } from '../errors.js';
import { type CliIO, untilStopped } from '../io.js';
import { normalisePveUrl } from '../online.js';
import { DEFAULTS } from '../options.js';

/** Options of `serve`, parsed by the kinds of ../options.ts (PVE_URL, PVE_FINGERPRINT, DP_READ_ONLY included). */
export interface ServeOptions {
  pve?: string;
  tokenFile?: string;
  fingerprint?: string;
  insecure?: boolean;
  readOnly?: boolean;
  port?: number;
  host?: string;
  panelDir?: string;
  login?: boolean;
  allowedHost?: string[];
  tlsCert?: string;
  tlsKey?: string;
}

/** `--tls-cert` + `--tls-key` read, or null; one without the other is a usage error. */
export function readTls(raw: { tlsCert?: string; tlsKey?: string }): { cert: string; key: string } | null {
  if (!raw.tlsCert && !raw.tlsKey) return null;
  if (!raw.tlsCert || !raw.tlsKey) throw new UsageError('--tls-cert and --tls-key go together: the certificate and its private key (PEM files)');
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', raw.tlsCert), key: read('--tls-key', raw.tlsKey) };
}

/** Turns the shim's option errors into usage errors (exit 2). */
export async function serveOrUsage(run: () => Promise<RunningShim>): Promise<RunningShim> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ShimOptionsError) throw new UsageError(err.message);
    if (err instanceof UpstreamCheckError) throw new UsageError(`cannot start: ${err.message}`);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UsageError(`--port: ${e.message}; pick another port (or --port 0 for any free one)`);
    throw err;
  }
}

/** Starts the shim from CLI options (tests call this and close it). */
export async function startServe(raw: ServeOptions, io: CliIO): Promise<RunningShim> {
  const url = normalisePveUrl(raw.pve);
  let token: string | undefined;
  if (raw.login) {
    if (raw.tokenFile) throw new UsageError('--login and --token-file exclude each other: in login mode every user signs in with their own PVE account');
  } else if (raw.tokenFile) {
    try {
      const read = await readTokenFile(raw.tokenFile);
      if (read.warning) io.stderr(`pve-dataplane: ${read.warning}\n`);
      token = read.token;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  } else if (io.env['PVE_TOKEN']) {
    try {
      const t = parseApiToken(io.env['PVE_TOKEN']);
      token = `${t.tokenId}=${t.secret}`;
    } catch (err) {
      throw new UsageError(`PVE_TOKEN: ${(err as Error).message}`);
    }
  } else {
    throw new UsageError('no API token: pass --token-file FILE (first line USER@REALM!TOKENID=SECRET) or set PVE_TOKEN, or use --login');
  }
  const tls = readTls(raw);
  const readOnly = raw.readOnly === true;
  const fingerprint = raw.fingerprint;
  return serveOrUsage(() =>
    serve({
      upstream: url.origin,
      ...(token !== undefined ? { token } : { login: true }),
      ...(raw.allowedHost ? { allowedHosts: raw.allowedHost } : {}),
      ...(tls ? { tls } : {}),
      ...(fingerprint ? { fingerprint } : {}),
      insecure: raw.insecure === true,
      readOnly,
      panelDir: raw.panelDir ?? defaultPanelDir(),
      port: raw.port ?? DEFAULTS.panelPort,
      host: raw.host ?? DEFAULTS.host,
      warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
    }),
  );
}

/** CLI entry. */
export async function run(raw: ServeOptions, io: CliIO): Promise<number> {
  const shim = await startServe(raw, io);
  const readOnly = raw.readOnly === true;
  const mode = readOnly ? ' (read-only: writes are refused)' : '';
  if (raw.login) io.stderr('pve-dataplane: PVE login mode: users sign in with their own PVE account; PVE\'s permissions apply\n');
  io.stdout(`pve-dataplane: panel at ${shim.url}/${mode}\n`);
  await untilStopped(io);
  io.stderr('serve: shutting down\n');
  await shim.close();
  return 0;
}
