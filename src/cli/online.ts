// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Node side of every online command: turns `--pve`, `--token-file`, `--fingerprint`,
 * `--concurrency`, `--insecure` (or PVE_URL, PVE_TOKEN, PVE_FINGERPRINT) into a `PveClient` with
 * the right TLS agent, and draws the progress bar of long collections.
 */
import http from 'node:http';
import { SingleBar } from 'cli-progress';
import { parseApiToken } from '../api/auth.js';
import { PveClient } from '../api/client.js';
import { nodeTransport } from '../node/http-transport.js';
import { createPveAgent, normaliseFingerprint } from '../node/tls.js';
import { readTokenFile } from '../node/token-file.js';
import { UsageError } from './errors.js';

export interface OnlineOptions {
  /** PVE URL: `https://pve1:8006`, `pve1:8006` or `pve1` (https and port 8006 assumed). */
  pve?: string;
  tokenFile?: string;
  /** The token itself (PVE_TOKEN); `tokenFile` wins when both are given. */
  token?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
}

/** Default parallel requests of the CLI (pveproxy runs 3 workers per node by default). */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Builds the Node client for the online commands.
 * @param env process environment (PVE_URL, PVE_TOKEN, PVE_FINGERPRINT are read from it)
 * @param warn where warnings go (loose token file permissions, --insecure, plain http); default stderr
 * @throws UsageError naming the option when something is missing or malformed
 */
export async function clientFromOptions(
  options: OnlineOptions,
  env: Record<string, string | undefined> = process.env,
  warn: (line: string) => void = (l) => void process.stderr.write(`pve-dataplane: ${l}\n`),
): Promise<PveClient> {
  const url = normalisePveUrl(options.pve ?? env['PVE_URL']);
  const token = await resolveToken(options, env, warn);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`--concurrency must be a whole number >= 1 (got ${String(options.concurrency)})`);
  }
  const fingerprintText = options.fingerprint ?? env['PVE_FINGERPRINT'];
  let fingerprint: string | undefined;
  if (fingerprintText) {
    try {
      fingerprint = normaliseFingerprint(fingerprintText);
    } catch (err) {
      throw new UsageError(`--fingerprint (or PVE_FINGERPRINT): ${(err as Error).message}`);
    }
  }
  if (fingerprint && options.insecure) {
    throw new UsageError('--fingerprint and --insecure exclude each other: a pinned certificate is already verified');
  }
  const plain = url.protocol === 'http:';
  if (plain && !isLoopback(url.hostname)) {
    warn(`${url.origin} is plain http: the API token crosses the network unencrypted`);
  }
  return new PveClient({
    baseUrl: url.href,
    auth: { kind: 'token', token },
    concurrency,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    transport: nodeTransport(
      plain
        ? { httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency }) }
        : {
            httpsAgent: createPveAgent({
              ...(fingerprint ? { fingerprint } : {}),
              insecure: options.insecure === true,
              maxSockets: concurrency,
              warn,
            }),
          },
    ),
  });
}

/** `pve1` -> `https://pve1:8006/`; `https://pve1:8006/api2/json` is kept; a URL with a scheme keeps its port. */
export function normalisePveUrl(text: string | undefined): URL {
  if (!text || text.trim() === '') {
    throw new UsageError('no PVE API URL: pass --pve https://HOST:8006 (or set PVE_URL)');
  }
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--pve '${text}' is not a URL such as https://pve1:8006`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--pve '${text}': the scheme must be https (or http for a local simulator)`);
  }
  // PVE's API listens on 8006; without a scheme the user typed a bare host (or host:port).
  if (withScheme !== trimmed && url.port === '') url.port = '8006';
  if (url.username || url.password) {
    throw new UsageError('--pve must not contain credentials; put the API token in --token-file');
  }
  return url;
}

async function resolveToken(
  options: OnlineOptions,
  env: Record<string, string | undefined>,
  warn: (line: string) => void,
): Promise<string> {
  if (options.tokenFile) {
    try {
      const read = await readTokenFile(options.tokenFile);
      if (read.warning) warn(read.warning);
      return read.token;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const text = options.token ?? env['PVE_TOKEN'];
  if (!text) {
    throw new UsageError(
      'no API token: pass --token-file FILE (first line USER@REALM!TOKENID=SECRET) or set PVE_TOKEN; ' +
        // A privilege-separated token holds only what its ACL grants: an audit needs no more than PVEAuditor.
        "create a read-only one on a node with: pveum user token add audit@pve dataplane --privsep 1 && pveum acl modify / --tokens 'audit@pve!dataplane' --roles PVEAuditor " +
        '(VM.Audit + Datastore.Audit suffice to audit and plan; apply and rollback also need VM.Config.Disk, VM.Config.HWType and VM.PowerMgmt; ' +
        'the user audit@pve must exist: pveum user add audit@pve)',
    );
  }
  try {
    const t = parseApiToken(text);
    return `${t.tokenId}=${t.secret}`;
  } catch (err) {
    throw new UsageError(`PVE_TOKEN: ${(err as Error).message}`);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** A progress display: `update` after each item, `stop` at the end (also on failure). */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress bar on `stream` (stderr) when it is a terminal, for collections of at least
 * `minItems`; otherwise a no-op, so pipes and logs stay clean.
 */
export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  minItems = 20,
): Progress {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  let bar: SingleBar | null = null;
  return {
    update(done, total) {
      if (total < minItems) return;
      if (!bar) {
        bar = new SingleBar({
          stream,
          format: `${label} [{bar}] {value}/{total} VMs  {duration_formatted}`,
          clearOnComplete: true,
          hideCursor: true,
          barsize: 30,
        });
        bar.start(total, done);
      } else {
        bar.update(done);
      }
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
