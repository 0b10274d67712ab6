// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The online audit of a cluster equals the offline audit of the same config files, VM by VM and
 * disk by disk: every real config (test/fixtures/configs) and qemu-server's cfg2cmd storage.cfg,
 * once as a copy of /etc/pve, once served by a fake PVE API over a socket.
 */
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport, VmReport } from '../../../src/analysis/types.js';
import { audit } from '../../../src/cli/commands/audit.js';
import { parseStorageCfg, parseVmConfig } from '../../../src/pve/index.js';
import { type ClusterVm, startFakeCluster } from './helpers/fake-cluster.js';
import type { FakePve } from './helpers/fake-pve.js';

const CONFIGS = new URL('../../fixtures/configs/', import.meta.url);
const STORAGE_CFG = new URL('../../fixtures/cfg2cmd/storage.cfg', import.meta.url);

let dir: string;
let server: FakePve;
let configCount = 0;
let offline: AuditReport;
let online: AuditReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dp-online-offline-'));
  const names = (await readdir(CONFIGS)).filter((f) => f.endsWith('.conf')).sort();
  configCount = names.length;
  const storageText = await readFile(STORAGE_CFG, 'utf8');
  await writeFile(join(dir, 'storage.cfg'), storageText);
  const vms: ClusterVm[] = [];
  for (const [i, name] of names.entries()) {
    const vmid = 1000 + i;
    const node = i % 3 === 0 ? 'pve2' : 'pve1';
    const raw = await readFile(new URL(name, CONFIGS), 'utf8');
    await mkdir(join(dir, 'nodes', node, 'qemu-server'), { recursive: true });
    await writeFile(join(dir, 'nodes', node, 'qemu-server', `${vmid}.conf`), raw);
    vms.push({ vmid, node, file: parseVmConfig(raw, { vmid, source: `api:/nodes/${node}/qemu/${vmid}` }) });
  }
  server = await startFakeCluster(vms, parseStorageCfg(storageText).storages, '11.0.2-1');
  offline = await audit({ configDir: dir, qemuVersion: '11.0.2' });
  online = await audit({ pve: server.url, token: 'audit@pve!ro=00000000-0000-0000-0000-000000000000' });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * What legitimately differs: where the facts came from, the run status only the API knows, and the
 * risk, whose evidence (syslog, RRD, backup jobs) is read differently online and offline.
 */
function comparable(vm: VmReport): Omit<VmReport, 'source' | 'status' | 'issues' | 'risk'> {
  const { source: _s, status: _t, issues: _i, risk: _r, ...rest } = vm;
  return rest;
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
    expect(server.requests.filter((r) => r.url.endsWith('/pending'))).toHaveLength(online.vms.length);
  });
});
