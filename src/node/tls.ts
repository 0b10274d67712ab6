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

/** A connection being opened (or open and verified) and who waits for it. */
interface Connecting {
  socket: tls.TLSSocket;
  /** Set once the handshake and the check are over: null when the socket may be used. */
  result?: Error | null;
  /** Called with the result; a spare has none until a request takes it. */
  taker?: ConnectCallback;
  /** While a spare sits verified in the pool: an error only closes it. */
  onIdleError?: () => void;
}

class PveHttpsAgent extends https.Agent {
  /**
   * Connections opened ahead of demand, per agent name (origin and TLS options), unref'd until a
   * request takes one. See `createConnection`.
   */
  private readonly spares = new Map<string, Connecting[]>();
  /** Connections this agent opened and that are not closed, spares included, per agent name. */
  private readonly open = new Map<string, Set<tls.TLSSocket>>();

  constructor(
    opts: https.AgentOptions,
    private readonly pinned: string | null,
    private readonly insecure: boolean,
    private readonly handshakeTimeoutMs: number,
  ) {
    super(opts);
  }

  // Node's Agent accepts an asynchronous createConnection (returns nothing, calls back later):
  // the socket reaches http only after the check in `connect`.
  //
  // The first time a second connection to a server is asked for while the first is open, the
  // client is running requests side by side (the audit's first round sends 4 of its 8): the agent
  // then opens the rest of maxSockets at once, so their handshakes run while those requests wait
  // for their answers instead of later, in front of the next requests. A spare is a verified
  // connection on which nothing is sent until a request takes it.
  override createConnection(requestOptions: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
    const options = requestOptions as tls.ConnectionOptions;
    const name = this.getName(requestOptions as https.AgentOptions);
    const alreadyOpen = this.open.get(name)?.size ?? 0;
    const taker: ConnectCallback = callback ?? (() => {});
    const spare = this.takeSpare(name);
    if (spare) this.handOut(spare, taker);
    else this.connect(name, options, taker);
    if (alreadyOpen >= 1 && !this.spares.has(name)) {
      const list: Connecting[] = [];
      this.spares.set(name, list);
      const max = Number.isFinite(this.maxSockets) ? this.maxSockets : 8;
      for (let n = this.open.get(name)!.size; n < max; n++) list.push(this.connect(name, options));
    }
    return undefined;
  }

  override destroy(): void {
    for (const list of this.spares.values()) for (const c of list.splice(0)) c.socket.destroy();
    super.destroy();
  }

  /** The first spare that is not closed, removed from the pool. */
  private takeSpare(name: string): Connecting | undefined {
    const list = this.spares.get(name);
    while (list && list.length > 0) {
      const c = list.shift()!;
      if (!c.socket.destroyed && (c.result === undefined || (c.result === null && c.socket.writable))) return c;
      c.socket.destroy();
    }
    return undefined;
  }

  /** Gives a spare to a request: now when its handshake is over, otherwise when it is. */
  private handOut(c: Connecting, taker: ConnectCallback): void {
    c.socket.ref();
    if (c.onIdleError) c.socket.removeListener('error', c.onIdleError);
    c.taker = taker;
    // Still in its handshake: `finish` calls the taker.
    if (c.result !== undefined) taker(c.result, c.socket);
  }

  /** Opens and checks one connection; `taker` gets it, or it waits as a spare when there is none. */
  private connect(name: string, options: tls.ConnectionOptions, taker?: ConnectCallback): Connecting {
    const socket = tls.connect({
      ...options,
      // Verified by hand below; the chain result is still computed into `socket.authorized`.
      rejectUnauthorized: false,
      // No TLS session resumption: a resumed session may not present the certificate again.
      session: undefined,
    });
    const c: Connecting = { socket, ...(taker ? { taker } : {}) };
    let open = this.open.get(name);
    if (!open) this.open.set(name, (open = new Set()));
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      // A spare the server closed is not handed out.
      const list = this.spares.get(name);
      const i = list ? list.indexOf(c) : -1;
      if (i >= 0) list!.splice(i, 1);
    });
    // A spare keeps no process alive (a request's connection does: http refs it).
    if (!taker) socket.unref();
    const timer = setTimeout(() => {
      const err = Object.assign(
        new Error(`no TLS handshake with ${options.host ?? 'server'}:${options.port ?? ''} within ${this.handshakeTimeoutMs} ms`),
        { code: 'ETIMEDOUT' },
      );
      finish(err);
    }, this.handshakeTimeoutMs);
    if (!taker) timer.unref();
    const finish = (err: Error | null): void => {
      if (c.result !== undefined) return;
      c.result = err;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (err) socket.destroy();
      if (c.taker) c.taker(err, socket);
      else if (!err) socket.on('error', (c.onIdleError = () => socket.destroy()));
    };
    const onError = (err: Error): void => finish(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => finish(this.verify(socket, options)));
    return c;
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
