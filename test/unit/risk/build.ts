// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Hand-built VmReport / DiskReport values for the rule tests, so each rule is tested on the facts
 * it reads and not on the disk analysis (which has its own tests).
 */
import type { AioMode, DiskFacts, DiskReport, VmReport } from '../../../src/analysis/types.js';
import type { RiskEvidenceInput } from '../../../src/analysis/risk/index.js';

export interface DiskSpec {
  controller?: DiskFacts['controller'];
  controllerId?: string | null;
  iothread?: boolean;
  /** Effective iothread; defaults to the configured one (i.e. not ignored). */
  iothreadEffective?: boolean;
  aio?: AioMode | null;
  aioEffective?: AioMode | null;
  cacheDirect?: boolean | null;
  cache?: string | null;
  media?: 'disk' | 'cdrom';
  volume?: string;
  startError?: string | null;
  qemuDevice?: DiskFacts['qemuDevice'];
}

const BUS_DEFAULTS: Record<DiskReport['bus'], { controller: DiskFacts['controller']; qemuDevice: DiskFacts['qemuDevice'] }> = {
  scsi: { controller: 'lsi', qemuDevice: 'scsi-hd' },
  virtio: { controller: null, qemuDevice: 'virtio-blk-pci' },
  sata: { controller: 'ahci', qemuDevice: 'ide-hd' },
  ide: { controller: 'ide', qemuDevice: 'ide-hd' },
};

export function facts(key: string, spec: DiskSpec = {}): DiskFacts {
  const bus = /^[a-z]+/.exec(key)![0] as DiskReport['bus'];
  const idx = Number(/\d+$/.exec(key)![0]);
  const d = BUS_DEFAULTS[bus];
  const controller = spec.controller !== undefined ? spec.controller : d.controller;
  const iothread = spec.iothread ?? false;
  const defaultId =
    controller === null ? null : controller === 'ahci' ? 'ahci0' : controller === 'ide' ? `ide.${idx >> 1}` : `scsihw${Math.floor(idx / 7)}`;
  return {
    qemuDevice: spec.qemuDevice ?? (spec.media === 'cdrom' ? (bus === 'scsi' ? 'scsi-cd' : bus === 'virtio' ? null : 'ide-cd') : d.qemuDevice),
    controller,
    controllerId: spec.controllerId !== undefined ? spec.controllerId : defaultId,
    iothread: { configured: iothread, effective: spec.iothreadEffective ?? iothread },
    aio: { configured: spec.aio ?? null, effective: spec.aioEffective !== undefined ? spec.aioEffective : (spec.aio ?? 'io_uring') },
    cacheDirect: spec.cacheDirect !== undefined ? spec.cacheDirect : true,
    deviations: [],
    startError: spec.startError ?? null,
  };
}

export function disk(key: string, spec: DiskSpec = {}, pending?: DiskSpec | 'deleted'): DiskReport {
  const bus = /^[a-z]+/.exec(key)![0] as DiskReport['bus'];
  const report: DiskReport = {
    ...facts(key, spec),
    key,
    bus,
    media: spec.media ?? 'disk',
    volume: spec.volume ?? `local-lvm:vm-100-disk-${key}`,
    storage: 'local-lvm',
    storageType: 'lvmthin',
    cache: spec.cache ?? null,
  };
  if (pending === 'deleted') report.pending = { deleted: true };
  else if (pending) report.pending = facts(key, pending);
  return report;
}

/** virtio-scsi-single + iothread=1: the target state. */
export function singleIothread(key: string, extra: DiskSpec = {}): DiskReport {
  const idx = Number(/\d+$/.exec(key)![0]);
  return disk(key, { controller: 'virtio-scsi-pci', controllerId: `virtioscsi${idx}`, iothread: true, ...extra });
}

export interface VmSpec extends Partial<Omit<VmReport, 'scsihw'>> {
  scsihw?: VmReport['scsihw'];
}

export function vm(disks: DiskReport[], spec: VmSpec = {}): VmReport {
  return {
    vmid: 100,
    name: 'vm100',
    node: 'pve1',
    status: 'running',
    source: 'api',
    digest: '0'.repeat(40),
    ostype: 'l26',
    template: false,
    lock: null,
    scsihw: { configured: null, effective: 'lsi' },
    machine: { configured: null, version: '11.0+pve0', type: 'i440fx', blockdev: true, basis: 'installed QEMU' },
    disks,
    pendingDataplaneChanges: disks.some((d) => d.pending !== undefined),
    issues: [],
    ...spec,
  };
}

/** Evidence where every online fact is known and harmless: no rule should fire from it. */
export function quietEvidence(extra: RiskEvidenceInput = {}): RiskEvidenceInput {
  return {
    throttles: {},
    ramSnapshots: [],
    qemuVersion: '11.0.0',
    pveQemu: { version: '11.0.0-2', source: '/nodes/pve1/apt/versions' },
    qmpTimeouts: { count: 0, windowHours: 24, commands: {}, samples: [], truncated: false },
    io: { timeframe: 'hour', avgBytesPerSec: 0, peakBytesPerSec: 0, avgReadBytesPerSec: 0, avgWriteBytesPerSec: 0, samples: 60 },
    nodeCpu: { node: 'pve1', hostCpus: 32, runningVcpus: 16, vmVcpus: 4 },
    backupJobs: [],
    ha: { managed: false },
    ...extra,
  };
}
