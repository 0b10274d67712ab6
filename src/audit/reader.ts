// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the offline audit reads, as an interface: a copy of /etc/pve, single config files, or (in a
 * browser) files a user dropped. The Node implementation is `src/node/etc-pve.ts`; the audit
 * service itself touches no file system.
 */
import type { RiskSources } from '../analysis/risk/index.js';
import type { ConfigIssue, StorageMap, VmConfigFile } from '../pve/types.js';

/** One VM config as read. */
export interface ConfFile {
  readonly file: VmConfigFile;
  /** The node the VM belongs to; null when the source does not say. */
  node: string | null;
  /**
   * A reader that parses only when asked (`file` then parses on first use): the VMID from the file
   * name, and the parse itself, which keeps nothing (each call parses again). The offline audit of a
   * large tree parses each config just before auditing it, so the parsed configs of 5,000 VMs are
   * not all alive at once (they were copied and promoted by the read's garbage collections).
   */
  deferred?: { vmid: number; parse(): VmConfigFile };
}

/** Everything one read gave. */
export interface ConfigRead {
  vms: ConfFile[];
  storages: StorageMap;
  /** Problems in storage.cfg (the VMs are still audited). */
  storageIssues: ConfigIssue[];
  /** Files that could not be read or folders that do not exist; nothing from them was audited. */
  errors: ConfigIssue[];
  /**
   * Why no storage type is known (no storage.cfg given, or it could not be read: `cannot read
   * storage.cfg: permission denied`); absent when a storage.cfg was read, so that a storage missing
   * from it really does not exist.
   */
  storageTypesUnknown?: string;
}

export interface ReadFilter {
  /** Only VMs of this node. */
  node?: string;
  /** Only these VMIDs. */
  vmids?: ReadonlySet<number>;
  /** Only VMIDs from `from` (inclusive) to `to` (exclusive): one share of a tree audited by two threads. */
  vmidRange?: VmidRange;
}

/** VMIDs `from` ≤ vmid < `to`. */
export interface VmidRange {
  from: number;
  to: number;
}

/** A source of VM configs for `auditFiles`. */
export interface ConfigReader {
  /**
   * A tree laid out like /etc/pve (node folders; jobs.cfg and user.cfg beside the configs): `--node`
   * then selects VMs and unknown nodes are named; false for loose config files.
   */
  readonly tree: boolean;
  /** Where the configs come from, for messages: the tree's folder, or `the --conf files`. */
  readonly label: string;
  /** Reads the VM configs (those matching `filter`) and the storage.cfg. */
  read(filter?: ReadFilter): Promise<ConfigRead>;
  /** Risk sources beside the configs (backup jobs, pools) and why some could not be read; trees only. */
  readRiskSources?(): Promise<{ sources: RiskSources; issues: ConfigIssue[] }>;
}
