// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane demo`: the simulator (in this process, HTTPS with a pinned self-signed
 * certificate, like a fresh PVE node) + the api-shim + the web panel, on one URL. Nothing to
 * install on a PVE host; the simulated cluster is generated from `--seed`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { serve, type RunningShim } from '../../../api-shim/main.js';
import { defaultPanelDir } from '../../../api-shim/panel-dir.js';
import { type CliIO, untilStopped } from '../io.js';
import { DEFAULTS } from '../options.js';
import { serveOrUsage } from './serve.js';

/** Options of `demo`, parsed by the kinds of ../options.ts (DP_READ_ONLY included). */
export interface DemoOptions {
  port?: number;
  host?: string;
  vms?: number;
  seed?: number;
  readOnly?: boolean;
  panelDir?: string;
  login?: boolean;
}

export interface RunningDemo {
  /** The panel's URL, `http://127.0.0.1:8080/`. */
  url: string;
  readOnly: boolean;
  /** This run's state directory (jobs, plans, journals of the simulated cluster); removed by `close`. */
  stateDir: string;
  sim: RunningSimulator;
  shim: RunningShim;
  close(): Promise<void>;
}

/** Starts simulator + shim (tests call this and close it). */
export async function startDemo(raw: DemoOptions, io: CliIO): Promise<RunningDemo> {
  const vms = raw.vms ?? DEFAULTS.demoVms;
  const seed = raw.seed ?? DEFAULTS.seed;
  const port = raw.port ?? DEFAULTS.panelPort;
  const readOnly = raw.readOnly === true;
  // The real PVE answers a bad token after 3 s; the demo has nothing to protect.
  const sim = await startSimulator({ vms, seed, port: 0, authDelayMs: 0 });
  // Plans and journals of the simulated cluster act on VMs that vanish with this process: they live
  // in a directory of this run, removed on close, never in the user's real state directory.
  const stateDir = mkdtempSync(join(tmpdir(), 'pve-dataplane-demo-'));
  const dropState = (): void => rmSync(stateDir, { recursive: true, force: true });
  let shim: RunningShim;
  try {
    shim = await serveOrUsage(() =>
      serve({
        upstream: sim.url,
        // The admin token in both modes: --read-only is enforced by the shim, and the risk evidence
        // (node syslog: Sys.Syslog, node status: Sys.Audit) needs more than VM.Audit + Datastore.Audit.
        ...(raw.login ? { login: true } : { token: sim.token }),
        fingerprint: sim.fingerprint!,
        readOnly,
        panelDir: raw.panelDir ?? defaultPanelDir(),
        stateDir,
        port,
        host: raw.host ?? DEFAULTS.host,
        warn: (l) => io.stderr(`pve-dataplane: ${l}\n`),
      }),
    );
  } catch (err) {
    await sim.close();
    dropState();
    throw err;
  }
  return {
    url: `${shim.url}/`,
    readOnly,
    sim,
    shim,
    stateDir,
    close: async () => {
      await shim.close();
      await sim.close();
      dropState();
    },
  };
}

/** CLI entry: prints the panel URL, then runs until SIGINT/SIGTERM. */
export async function run(raw: DemoOptions, io: CliIO): Promise<number> {
  const demo = await startDemo(raw, io);
  io.stderr(
    `demo: simulated PVE cluster '${demo.sim.state.clusterName}' with ${raw.vms ?? DEFAULTS.demoVms} VMs at ${demo.sim.url}` +
      `${demo.readOnly ? ' (read-only: writes are refused by the shim)' : ''}\n` +
      `${raw.login ? 'demo: login mode: sign in as audit@pve / audit, operator@pve / operator, root@pam / simulator, or mfa@pve / mfa + TOTP\n' : ''}` +
      `demo: for the CLI against it: --pve ${demo.sim.url} --fingerprint ${demo.sim.fingerprint} and a token file holding ${demo.sim.token}\n`,
  );
  io.stdout(`pve-dataplane demo: open ${demo.url}\n`);
  await untilStopped(io);
  io.stderr('demo: shutting down\n');
  await demo.close();
  return 0;
}
