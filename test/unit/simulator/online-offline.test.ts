// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The simulator against the real client: an online audit of a generated fleet (through the
 * simulator, over HTTPS with the pinned fingerprint) equals the offline audit of the same config
 * files, VM by VM and disk by disk. Online the run state and the machine of running VMs come from
 * the API; the simulator computes `running-machine` the way qemu-server does, so they agree.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport, VmReport } from '../../../src/analysis/types.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { fleetFromConfigs, generateFleet, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';

let dir: string;
let sim: RunningSimulator;
let offline: AuditReport;
let online: AuditReport;
const requests: string[] = [];

beforeAll(async () => {
  const generated = generateFleet({ vms: 80, seed: 11 });
  // Same texts, states and nodes; running VMs run the installed QEMU (as after a node reboot).
  const fleet = fleetFromConfigs(
    generated.vms.map((v) => ({ vmid: v.vmid, text: v.config, node: v.node, status: v.status })),
    { storageCfg: generated.storageCfg },
  );
  sim = await startSimulator({ fleet, authDelayMs: 0, timeScale: 0, log: (line) => requests.push(line) });
  dir = await mkdtemp(join(tmpdir(), 'dp-sim-online-offline-'));
  await writeFile(join(dir, 'storage.cfg'), generated.storageCfg);
  for (const v of generated.vms) {
    await mkdir(join(dir, 'nodes', v.node, 'qemu-server'), { recursive: true });
    await writeFile(join(dir, 'nodes', v.node, 'qemu-server', `${v.vmid}.conf`), v.config);
  }
  offline = await audit({ configDir: dir, qemuVersion: sim.state.qemuVersion });
  online = await audit({ pve: sim.url, token: sim.auditToken, fingerprint: sim.fingerprint! });
});
afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * What legitimately differs: the source, the run state only the API knows, the risk evidence, and
 * the wording of why a machine version applies (online: "running-machine ...", offline: computed).
 */
function comparable(vm: VmReport) {
  const { source: _s, status: _t, issues: _i, risk: _r, machine, ...rest } = vm;
  const { basis: _b, ...machineFacts } = machine;
  return { ...rest, machine: machineFacts };
}

describe('online audit through the simulator == offline audit of the same files', () => {
  it('audits the same VMs without errors', () => {
    expect(online.errors).toEqual([]);
    expect(online.vms.map((v) => v.vmid)).toEqual(offline.vms.map((v) => v.vmid));
  });

  it('needs one request per VM (/pending) and per-node requests for the rest', () => {
    expect(requests.filter((r) => /\/pending -> 200$/.test(r))).toHaveLength(80);
    expect(requests.filter((r) => /\/qemu\/\d+\/config/.test(r))).toEqual([]);
  });

  it('gives the same facts VM by VM and disk by disk', () => {
    for (const [i, off] of offline.vms.entries()) {
      const on = online.vms[i]!;
      expect.soft(on.digest, `VM ${off.vmid}`).toBe(off.digest);
      for (const [d, disk] of off.disks.entries()) expect.soft(on.disks[d], `VM ${off.vmid} ${disk.key}`).toEqual(disk);
      expect.soft(comparable(on), `VM ${off.vmid}`).toEqual(comparable(off));
    }
  });
});
