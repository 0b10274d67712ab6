// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Backup (vzdump) jobs: reading them from `/cluster/backup` (online) or `/etc/pve/jobs.cfg`
 * (offline), and deciding which jobs cover a VM. Pure.
 *
 * Job keys are the vzdump options (apidoc /cluster/backup): `enabled` (default 1), `all`, `vmid`
 * (comma list), `exclude`, `pool`, `node` (job runs only there), `mode` (default snapshot),
 * `storage`, `schedule`, `fleecing` (property string, default key `enabled`; PVE 8.2+).
 */
import type { BackupJobCoverage } from './types.js';
import { FLEECING_FORMAT, parsePveBoolean, propertyFlag, propertyValue } from '../../pve/index.js';

/** A backup job as read; values are kept as strings, like PVE's section config. */
export interface BackupJob {
  id: string;
  props: Record<string, string>;
}

/** Normalises one `/cluster/backup` entry (numbers and 0/1 become strings). */
export function backupJobFromApi(entry: Record<string, unknown>): BackupJob | null {
  const id = entry['id'];
  if (typeof id !== 'string' || id === '') return null;
  if (entry['type'] !== undefined && entry['type'] !== 'vzdump') return null;
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'id' || v === null || v === undefined) continue;
    props[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return { id, props };
}

/**
 * Parses the `vzdump:` sections of `/etc/pve/jobs.cfg` (section config: a `type: id` header, then
 * indented `key value` lines; a bare key means 1; blank line or next header ends the section).
 */
export function parseJobsCfg(text: string): BackupJob[] {
  const jobs: BackupJob[] = [];
  let current: BackupJob | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '' ) {
      current = null;
      continue;
    }
    if (line.trimStart().startsWith('#')) continue;
    const header = /^(\S+):\s*(\S+)$/.exec(line);
    if (header && !/^\s/.test(line)) {
      current = header[1] === 'vzdump' ? { id: header[2]!, props: {} } : null;
      if (current) jobs.push(current);
      continue;
    }
    if (!current) continue;
    const m = /^\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (m) current.props[m[1]!] = m[2] ?? '1';
  }
  return jobs;
}

/**
 * Pool membership from `/etc/pve/user.cfg` lines `pool:<name>:<comment>:<vmids>:<storages>:`.
 * Only the pool lines are read.
 */
export function parsePoolsFromUserCfg(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('pool:')) continue;
    const [, name, , members] = line.split(':');
    if (!name || !members) continue;
    for (const id of members.split(',')) {
      const vmid = Number(id.trim());
      if (Number.isInteger(vmid) && vmid > 0) out.set(vmid, name);
    }
  }
  return out;
}

/** A boolean of jobs.cfg / vzdump in PVE's words; `dflt` when unset, false when unreadable. */
function isTrue(v: string | undefined, dflt: boolean): boolean {
  return v === undefined ? dflt : parsePveBoolean(v.trim()) === true;
}

function idList(v: string | undefined): Set<number> {
  return new Set((v ?? '').split(/[,;\s]+/).filter(Boolean).map(Number));
}

/** `fleecing` property string (`1`, `enabled=1,storage=local-lvm`) -> on/off + storage. */
export function parseFleecing(value: string | undefined): { fleecing: 'on' | 'off' | 'unset'; storage?: string } {
  if (value === undefined || value.trim() === '') return { fleecing: 'unset' };
  const storage = propertyValue(value, FLEECING_FORMAT, 'storage');
  const on = propertyFlag(value, FLEECING_FORMAT, 'enabled', false);
  return storage !== undefined ? { fleecing: on ? 'on' : 'off', storage } : { fleecing: on ? 'on' : 'off' };
}

/** Where the VM is: its node and pool (`undefined` = not known, `null` = in no pool). */
export interface BackupSubject {
  vmid: number;
  node: string | null;
  pool?: string | null;
}

export interface Coverage {
  /** Enabled jobs that back this VM up. */
  covering: BackupJobCoverage[];
  /** Jobs whose coverage could not be decided (pool membership unknown), by id. */
  undetermined: string[];
}

/** Which enabled jobs back up this VM (vzdump selection: vmid list, all minus exclude, or pool). */
export function jobsCovering(jobs: readonly BackupJob[], vm: BackupSubject): Coverage {
  const covering: BackupJobCoverage[] = [];
  const undetermined: string[] = [];
  for (const job of jobs) {
    const p = job.props;
    if (!isTrue(p['enabled'], true)) continue;
    if (p['node'] && vm.node !== null && p['node'] !== vm.node) continue;
    let selection: string | null = null;
    if (p['vmid']) {
      if (idList(p['vmid']).has(vm.vmid)) selection = 'vmid list';
    } else if (p['pool']) {
      if (vm.pool === undefined) {
        undetermined.push(job.id);
        continue;
      }
      if (vm.pool === p['pool']) selection = `pool ${p['pool']}`;
    } else if (isTrue(p['all'], false)) {
      if (!idList(p['exclude']).has(vm.vmid)) selection = 'all';
    }
    if (selection === null) continue;
    const fl = parseFleecing(p['fleecing']);
    const cov: BackupJobCoverage = { id: job.id, fleecing: fl.fleecing, mode: p['mode'] ?? 'snapshot', selection };
    if (fl.storage) cov.fleecingStorage = fl.storage;
    if (p['storage']) cov.storage = p['storage'];
    const schedule = p['schedule'] ?? p['starttime'];
    if (schedule) cov.schedule = schedule;
    covering.push(cov);
  }
  return { covering, undetermined };
}
