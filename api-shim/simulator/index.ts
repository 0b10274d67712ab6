// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The in-memory PVE API simulator used by the tests, the demo and the benchmarks.
 *
 *     const sim = await startSimulator({ vms: 50, seed: 1, authDelayMs: 0, timeScale: 0 });
 *     // sim.url = https://127.0.0.1:PORT, sim.token = 'root@pam!sim=...', sim.fingerprint = 'AA:BB:...'
 *     await sim.close();
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { generateFleet } from './fleet.js';
import { buildServer } from './server.js';
import { setPveQemu, upstreamOfSpec } from './pve-qemu.js';
import { SimState } from './state.js';
import type { SimulatorOptions } from './types.js';

export { generateFleet, fleetFromConfigs, type FleetSpec, type ConfigFileSpec } from './fleet.js';
export { SimState, type SimVm, type BeforeWriteHook } from './state.js';
export type { FaultPlan, FaultRule, FaultKind } from './faults.js';
export type { SimTask } from './tasks.js';
export type * from './types.js';

export interface RunningSimulator {
  /** Base URL without `/api2/json`, e.g. `https://127.0.0.1:40123`. */
  url: string;
  /** Admin API token `root@pam!sim=<uuid>` (root's privileges, but not root@pam itself). */
  token: string;
  /** Read-only token `audit@pve!ro=...` with VM.Audit + Datastore.Audit on `/`. */
  auditToken: string;
  /** Token `nostore@pve!vm=...` with VM.Audit on /vms only (no Datastore.Audit, no Sys.Audit). */
  noDatastoreToken: string;
  /** Token `operator@pve!convert=...`: VM.Audit, VM.Config.Disk/HWType/CDROM/Options, VM.PowerMgmt on /vms and Datastore.Audit. */
  operatorToken: string;
  /** Password of `root@pam` for ticket login. */
  rootPassword: string;
  /** SHA-256 fingerprint of the TLS certificate (`AA:BB:...`), null with `http: true`. */
  fingerprint: string | null;
  /** PEM of the certificate (for clients that want to trust it as a CA). */
  certificate: string | null;
  state: SimState;
  /** Resolves when every config has been parsed once (benchmarks wait for it). */
  warmed: Promise<void>;
  close(): Promise<void>;
}

const ROOT_PASSWORD = 'simulator';

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const seed = opts.seed ?? 1;
  if (opts.latencyMs !== undefined && !(opts.latencyMs >= 0)) throw new Error(`latencyMs must be >= 0, got ${opts.latencyMs}`);
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) {
    throw new Error(`port must be an integer 0-65535, got ${opts.port}`);
  }
  // The TLS key is generated off the main thread while the fleet is built.
  const pemsPromise = opts.http ? null : generate([{ name: 'commonName', value: 'pve-dataplane-simulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 2 * 365 * 86400 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  const fleet = opts.fleet ?? generateFleet({ vms: opts.vms ?? 20, nodes: opts.nodes ?? 3, seed });
  const state = new SimState(fleet, {
    seed,
    pveVersion: opts.pveVersion ?? '9.1',
    ...(opts.qemuVersion ? { qemuVersion: opts.qemuVersion } : opts.pveQemuVersion && upstreamOfSpec(opts.pveQemuVersion) ? { qemuVersion: upstreamOfSpec(opts.pveQemuVersion)! } : {}),
    timeScale: opts.timeScale ?? 0.1,
    shuffleKeys: opts.shuffleKeys ?? true,
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.timezone ? { timezone: opts.timezone } : {}),
  });
  if (opts.pveQemuVersion !== undefined) setPveQemu(state, opts.pveQemuVersion);
  let https: { key: string; cert: string } | undefined;
  let fingerprint: string | null = null;
  if (pemsPromise) {
    const pems = await pemsPromise;
    https = { key: pems.private, cert: pems.cert };
    fingerprint = new X509Certificate(pems.cert).fingerprint256;
  }
  const { app, sockets } = buildServer(state, {
    latencyMs: opts.latencyMs ?? 0,
    authDelayMs: opts.authDelayMs ?? 3000,
    ...(https ? { https } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const c = state.credentials;
  const tokenOf = (id: string) => `${id}=${state.auth.tokens.find((t) => t.tokenid === id)!.secret}`;
  return {
    url: `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: c.admin,
    auditToken: c.audit,
    noDatastoreToken: c.noDatastore,
    operatorToken: tokenOf('operator@pve!convert'),
    rootPassword: ROOT_PASSWORD,
    fingerprint,
    certificate: https?.cert ?? null,
    state,
    warmed: state.warmUp(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await app.close();
    },
  };
}
