// SPDX-License-Identifier: AGPL-3.0-or-later
/** Builders for the analysis tests: storages, machines and one-disk facts from config text. */
import { type DiskContext, diskFacts } from '../../../src/analysis/disk-status.js';
import { type MachineInput, resolveMachine } from '../../../src/analysis/machine.js';
import type { AnalysisEnv, DiskFacts, VmInput } from '../../../src/analysis/types.js';
import { parseDrive, parseStorageCfg } from '../../../src/pve/index.js';
import type { StorageMap } from '../../../src/pve/types.js';

/** The storages of qemu-server's cfg2cmd test driver plus a few more types. */
export const STORAGE_CFG = `dir: local
	path /var/lib/vz
	content images,iso

btrfs: btrfs
	path /mnt/btrfs
	content images

btrfs: btrfs-nocow
	path /mnt/btrfs2
	content images
	nocow 1

cifs: cifs
	path /mnt/pve/cifs
	server 10.0.0.2
	share s
	content images,iso

nfs: nfs
	path /mnt/pve/nfs
	server 10.0.0.3
	export /e
	content images

rbd: librbd
	pool p
	content images

rbd: krbd
	pool p
	content images
	krbd 1

zfs: zfs-iscsi
	iscsiprovider comstar
	portal 127.0.0.1
	target iqn.2019-10.org.test:foobar
	pool tank
	blocksize 4k
	content images

iscsidirect: iscsidirect
	portal 127.0.0.1
	target iqn.2019-10.org.test:foo

iscsi: iscsi
	portal 127.0.0.1
	target iqn.2019-10.org.test:bar
	content images

lvm: lvm
	vgname vg
	content images

lvmthin: lvmthin
	vgname pve
	thinpool data
	content images

zfspool: zfspool
	pool rpool/data
	content images

cephfs: cephfs
	content iso

pbs: pbs
	server 10.0.0.4
	datastore d
	content backup

purestorage: pure
	address 10.0.0.5
	content images
`;

export const STORAGES: StorageMap = parseStorageCfg(STORAGE_CFG, 'storage.cfg').storages;

export const ENV: AnalysisEnv = { storages: STORAGES, installedQemu: [11, 0, 0], installedQemuAssumed: false };

export interface FactsOptions {
  scsihw?: string;
  machine?: string;
  ostype?: string;
  meta?: string;
  template?: boolean;
  vmid?: number;
  installed?: [number, number, number];
}

/** Context for one VM: scsihw, machine (pinned or resolved as qemu-server does), template. */
export function context(o: FactsOptions = {}): DiskContext {
  const input: MachineInput = { machine: o.machine, ostype: o.ostype, meta: o.meta, template: o.template ? '1' : undefined };
  const machine = resolveMachine(input, { installedQemu: o.installed ?? [11, 0, 0], installedQemuAssumed: false });
  return { scsihw: o.scsihw ?? null, machine, template: o.template ?? false, storages: STORAGES };
}

/** Facts of `key: value` in a VM described by `o` (the drive must be valid for PVE). */
export function facts(key: string, value: string, o: FactsOptions = {}): DiskFacts {
  const drive = parseDrive(key, value, { vmid: o.vmid ?? 100 });
  const errors = drive.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(`test drive ${key}: ${value} is invalid: ${errors[0]!.message}`);
  return diskFacts(drive, context(o));
}

/** A VmInput from key/value maps (what both the file reader and the API collector produce). */
export function vmInput(current: Record<string, string>, extra: Partial<VmInput> = {}): VmInput {
  return {
    vmid: 100,
    node: 'pve1',
    source: '100.conf',
    digest: '0'.repeat(40),
    current,
    pending: {},
    deletes: [],
    issues: [],
    ...extra,
  };
}
