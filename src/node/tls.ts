// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Node-only HTTPS agent for the PVE API with three trust modes:
 * - `ca` (default): verify the chain against the system CAs (or `ca` given) and the host name;
 * - `fingerprint`: accept exactly the leaf certificate whose SHA-256 fingerprint is given - PVE's
 *   default certificate is self-signed by the cluster CA, and `pvenode cert info` / the GUI show
 *   this fingerprint, so pinning is the practical secure choice;
 * - `insecure`: accept any certificate (prints a warning on stderr when the agent is created).
 *
 * The check happens before the socket is handed to the HTTP layer, so not a single request byte
 * (API token!) is written to a server that fails it. Connections are kept alive: at 15 ms of
 * latency a new TLS handshake per request would cost more than the request.
 */
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

export interface PveAgentOptions {
  /** Pin the leaf certificate: SHA-256 fingerprint, `AA:BB:...` (colons and case optional). */
  fingerprint?: string;
  /** Skip all verification (never with `fingerprint`). */
  insecure?: boolean;
  /** Extra trusted CA certificates (PEM), instead of the system store. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Max sockets (set it to the client's concurrency). Default 8. */
  maxSockets?: number;
  /** TCP connect + TLS handshake limit in ms (the request timeout only starts after it). Default 15 000. */
  handshakeTimeoutMs?: number;
  /** Where the `--insecure` warning goes. Default: process.stderr. */
  warn?: (line: string) => void;
}

/** Error codes of refused connections (`code` of the error the request fails with). */
export const TLS_FINGERPRINT_MISMATCH = 'DP_TLS_FINGERPRINT_MISMATCH';
export const TLS_UNTRUSTED = 'DP_TLS_UNTRUSTED';

/** A refused TLS connection; the message names what was expected and what the server showed. */
export class TlsVerificationError extends Error {
  override name = 'TlsVerificationError';
  readonly code: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly actualFingerprint: string;

  constructor(code: string, message: string, actualFingerprint: string) {
    super(message);
    this.code = code;
    this.actualFingerprint = actualFingerprint;
  }
}

/**
 * Normalises a SHA-256 fingerprint to PVE's notation (`AA:BB:...`, 32 upper-case hex bytes).
 * @throws Error saying what a valid fingerprint looks like
 */
export function normaliseFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha256[:/]?\s*/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new Error(
      `invalid fingerprint ${JSON.stringify(text)}: expected a SHA-256 fingerprint, 32 hex bytes like AA:BB:CC:...` +
        ' (see `pvenode cert info` on the node, or Datacenter > Node > System > Certificates in the web UI)',
    );
  }
  return hex.match(/../g)!.join(':');
}

/** An https.Agent that verifies PVE's certificate as described in the module comment. */
export function createPveAgent(options: PveAgentOptions = {}): https.Agent {
  if (options.fingerprint && options.insecure) {
    throw new Error('--fingerprint and --insecure exclude each other: a pinned certificate is already verified');
  }
  const pinned = options.fingerprint ? normaliseFingerprint(options.fingerprint) : null;
  if (options.insecure) {
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    warn(
      'WARNING: --insecure: the PVE server certificate is NOT verified; anyone on the network path can read ' +
        'the API token. Pin it instead with --fingerprint (see `pvenode cert info`).',
    );
  }
  return new PveHttpsAgent(
    { keepAlive: true, maxSockets: options.maxSockets ?? 8, ...(options.ca ? { ca: options.ca } : {}) },
    pinned,
    options.insecure === true,
    options.handshakeTimeoutMs ?? 15_000,
  );
}

type ConnectCallback = (err: Error | null, socket: Duplex) => void;

class PveHttpsAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly pinned: string | null,
    private readonly insecure: boolean,
    private readonly handshakeTimeoutMs: number,
  ) {
    super(opts);
  }

  // Node's Agent accepts an asynchronous createConnection (returns nothing, calls back later):
  // the socket reaches http only after the check below.
  override createConnection(requestOptions: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
    const options = requestOptions as tls.ConnectionOptions;
    const socket = tls.connect({
      ...options,
      // Verified by hand below; the chain result is still computed into `socket.authorized`.
      rejectUnauthorized: false,
      // No TLS session resumption: a resumed session may not present the certificate again.
      session: undefined,
    });
    let done = false;
    const timer = setTimeout(() => {
      const err = Object.assign(
        new Error(`no TLS handshake with ${options.host ?? 'server'}:${options.port ?? ''} within ${this.handshakeTimeoutMs} ms`),
        { code: 'ETIMEDOUT' },
      );
      finish(err);
    }, this.handshakeTimeoutMs);
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        callback?.(err, socket);
      } else {
        callback?.(null, socket);
      }
    };
    const onError = (err: Error): void => finish(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => finish(this.verify(socket, options)));
    return undefined;
  }

  private verify(socket: tls.TLSSocket, options: tls.ConnectionOptions): Error | null {
    const cert = socket.getPeerCertificate();
    const actual = cert && cert.fingerprint256 ? cert.fingerprint256.toUpperCase() : '(no certificate)';
    if (this.pinned) {
      if (actual === this.pinned) return null;
      return new TlsVerificationError(
        TLS_FINGERPRINT_MISMATCH,
        `certificate fingerprint mismatch for ${options.host ?? options.servername ?? 'server'}: ` +
          `expected ${this.pinned}, server presented ${actual}. If the node certificate was renewed, ` +
          'check the new fingerprint (`pvenode cert info`) and pass it with --fingerprint.',
        actual,
      );
    }
    if (this.insecure || socket.authorized) return null;
    return new TlsVerificationError(
      TLS_UNTRUSTED,
      `server certificate not trusted (${String(socket.authorizationError)}). PVE's default certificate ` +
        `is self-signed: verify its fingerprint ${actual} (\`pvenode cert info\` on the node) and pass ` +
        '--fingerprint, or install a trusted certificate.',
      actual,
    );
  }
}
