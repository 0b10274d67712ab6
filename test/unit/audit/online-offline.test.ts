// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The online audit of a cluster equals the offline audit of the same config files, VM by VM and
 * disk by disk: every real config (test/fixtures/configs) and qemu-server's cfg2cmd storage.cfg,
 * once as a copy of /etc/pve, once served by the PVE API simulator (the one fake PVE of the tests).
 */
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport, VmReport } from '../../../src/analysis/types.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { type ConfigFileSpec, fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';

const CONFIGS = new URL('../../fixtures/configs/', import.meta.url);
const STORAGE_CFG = new URL('../../fixtures/cfg2cmd/storage.cfg', import.meta.url);

let dir: string;
let sim: RunningSimulator;
const requests: string[] = [];
let configCount = 0;
let offline: AuditReport;
let online: AuditReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dp-online-offline-'));
  const names = (await readdir(CONFIGS)).filter((f) => f.endsWith('.conf')).sort();
  configCount = names.length;
  const storageText = await readFile(STORAGE_CFG, 'utf8');
  await writeFile(join(dir, 'storage.cfg'), storageText);
  const vms: ConfigFileSpec[] = [];
  for (const [i, name] of names.entries()) {
    const vmid = 1000 + i;
    const node = i % 3 === 0 ? 'pve2' : 'pve1';
    const raw = await readFile(new URL(name, CONFIGS), 'utf8');
    await mkdir(join(dir, 'nodes', node, 'qemu-server'), { recursive: true });
    await writeFile(join(dir, 'nodes', node, 'qemu-server', `${vmid}.conf`), raw);
    vms.push({ vmid, node, text: raw, status: 'stopped' });
  }
  sim = await startSimulator({
    fleet: fleetFromConfigs(vms, { storageCfg: storageText, nodes: ['pve1', 'pve2'] }),
    qemuVersion: '11.0.2',
    http: true,
    authDelayMs: 0,
    timeScale: 0,
    log: (line) => requests.push(line),
  });
  offline = await audit({ configDir: dir, qemuVersion: '11.0.2' });
  online = await audit({ pve: sim.url, token: sim.auditToken });
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * What legitimately differs: where the facts came from, the run status only the API knows, the
 * risk, whose evidence (syslog, RRD, backup jobs) is read differently online and offline, and the
 * name of a VM without one (qemu-server's vmstatus reports `VM <vmid>`).
 */
function comparable(vm: VmReport): Omit<VmReport, 'source' | 'status' | 'issues' | 'risk'> {
  const { source: _s, status: _t, issues: _i, risk: _r, ...rest } = vm;
  return { ...rest, name: rest.name === `VM ${vm.vmid}` ? null : rest.name };
}

describe('online audit == offline audit of the same configs', () => {
  it('audits the same VMs', () => {
    expect(online.vms.length).toBe(offline.vms.length);
    expect(online.vms.length).toBe(configCount);
    expect(online.vms.map((v) => [v.vmid, v.node])).toEqual(offline.vms.map((v) => [v.vmid, v.node]));
    expect(online.errors).toEqual([]);
  });

  it('gives the same facts VM by VM and disk by disk', () => {
    for (const [i, off] of offline.vms.entries()) {
      const on = online.vms[i]!;
      expect.soft(on.source).toBe('api');
      expect.soft(on.digest).toBe(off.digest);
      for (const [d, disk] of off.disks.entries()) expect.soft(on.disks[d], `VM ${off.vmid} ${disk.key}`).toEqual(disk);
      expect.soft(comparable(on), `VM ${off.vmid}`).toEqual(comparable(off));
    }
  });

  it('assumes nothing online (QEMU read per node, run state known) with one request per VM', () => {
    expect(online.assumptions).toEqual([]);
    expect(offline.assumptions.some((a) => a.startsWith('no runtime state (offline)'))).toBe(true);
    expect(requests.filter((r) => /\/pending\b/.test(r))).toHaveLength(online.vms.length);
  });
});
