// SPDX-License-Identifier: AGPL-3.0-or-later
// A small audited fleet for the browser tests, computed in the browser by the real core from
// config text (no hand-written report): 6 VMs on 2 nodes.
import { buildAuditReport, vmInputFromFile } from '../../src/audit/index.js';
import type { AnalysisEnv } from '../../src/analysis/types.js';
import { parseStorageCfg } from '../../src/pve/storage-cfg.js';
import { parseVmConfig } from '../../src/pve/vm-config-parse.js';
import type { FleetAudit } from '../../panel/data/fleet-audit.js';

const STORAGE_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images
`;

export interface FixtureVm {
  vmid: number;
  node: string;
  status: string;
  /** The VM's config file. */
  text: string;
}

const CONFIGS: FixtureVm[] = [
  {
    vmid: 100,
    node: 'pve1',
    status: 'running',
    // lsi (the default) ignores iothread=1: the disk is served by QEMU's main loop.
    text: 'name: db1\nostype: l26\nscsi0: local-lvm:vm-100-disk-0,iothread=1,size=64G\n',
  },
  {
    vmid: 101,
    node: 'pve1',
    status: 'running',
    text: 'name: app1\nostype: l26\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-101-disk-0,aio=threads,iothread=1,size=32G\n',
  },
  {
    vmid: 102,
    node: 'pve2',
    status: 'running',
    text:
      'name: web1\nostype: l26\nscsi0: local-lvm:vm-102-disk-0,size=32G\n\n' +
      '[PENDING]\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-102-disk-0,aio=threads,iothread=1,size=32G\n',
  },
  {
    vmid: 103,
    node: 'pve2',
    status: 'stopped',
    text: 'name: build1\nostype: l26\nvirtio0: local-lvm:vm-103-disk-0,iothread=1,size=16G\n',
  },
  {
    vmid: 104,
    node: 'pve1',
    status: 'stopped',
    text: 'name: tmpl1\nostype: l26\ntemplate: 1\nscsihw: virtio-scsi-single\nscsi0: local-lvm:base-104-disk-0,aio=threads,iothread=1,size=8G\n',
  },
  {
    vmid: 105,
    node: 'pve2',
    status: 'running',
    // VirtIO SCSI (not single) serving no disk: the only disk is on SATA.
    text: 'name: sata1\nostype: l26\nscsihw: virtio-scsi-pci\nsata0: local-lvm:vm-105-disk-0,size=16G\n',
  },
];

/** The fleet as `loadFleetAudit` would return it; `extra` VMs after the fixture's. */
export function fleetAudit(only?: number[], extra: readonly FixtureVm[] = []): FleetAudit {
  const { storages } = parseStorageCfg(STORAGE_CFG, 'storage.cfg');
  const env: AnalysisEnv = { storages, installedQemu: [10, 1, 0], installedQemuAssumed: false };
  const inputs = [...CONFIGS.filter((c) => !only || only.includes(c.vmid)), ...extra].map((c) => {
    const input = vmInputFromFile(parseVmConfig(c.text, { vmid: c.vmid, source: `${c.vmid}.conf` }), c.node);
    input.runtime = { status: c.status };
    return input;
  });
  return { report: buildAuditReport(inputs, env), inputs, env, permissions: null, loadedAt: new Date(0) };
}

/** A loader whose answer the test releases by hand (the Task's pending state stays observable). */
export function manualLoader<T>(): {
  loader: (signal: AbortSignal) => Promise<T>;
  calls: number;
  resolve(v: T): void;
  reject(e: unknown): void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const ctl = {
    calls: 0,
    loader: (_signal: AbortSignal) => {
      ctl.calls++;
      return new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
    },
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => reject(e),
  };
  return ctl;
}
