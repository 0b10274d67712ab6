// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `PUT`/`POST /nodes/{n}/qemu/{id}/config` as qemu-server's update_vm_api does it
 * (docs/how-qemu-server-decides.md#api): checks before the fork (parameters, permissions, digest,
 * lock), then under the lock: revert, delete, set into `[PENDING]`, cleanup_pending, and either
 * apply everything (stopped VM) or hot-plug what can be hot-plugged (running VM), leaving
 * aio/iothread/cache/discard/ssd/queues/ro/product/vendor changes and `scsihw` pending.
 */
import {
  addPendingDelete,
  applyPendingWithWarnings,
  canonicalDriveString,
  deleteConfigKey,
  driveFormat,
  getPart,
  isValidDriveName,
  parseDrive,
  parseDriveKey,
  parsePveBoolean,
  printVmConfig,
  removePendingDelete,
  scanPropertyString,
  setConfigValue,
  setPart,
  type Drive,
  type VmConfigFile,
} from '../../src/pve/index.js';
import { isRoot, privilegesOn, type Principal } from './acl.js';
import { dieError, paramError, permissionError } from './errors.js';
import { splitList as splitPveList } from './schema/validate.js';
import type { SimState, SimVm } from './state.js';
import type { TaskContext } from './tasks.js';

/** Privilege groups of qemu-server's $check_vm_modify_config_perm. */
const PRIV_BY_OPTION: Record<string, string> = {};
const group = (priv: string, keys: string) => {
  for (const k of keys.split(' ')) PRIV_BY_OPTION[k] = priv;
};
group('VM.Config.CPU', 'cores cpu cpulimit cpuunits numa smp sockets vcpus affinity');
group('VM.Config.Memory', 'memory balloon shares');
group('VM.Config.HWType', 'acpi hotplug kvm machine scsihw smbios1 tablet vga watchdog audio0 rng0 ivshmem spice_enhancements arch tdf');
group(
  'VM.Config.Options',
  'agent autostart bios description keyboard localtime migrate_downtime migrate_speed name onboot ostype protection reboot startdate startup template vmgenid allow-ksm hugepages keephugepages',
);
group('VM.PowerMgmt', 'freeze');
group('VM.Config.Disk', 'boot bootdisk vmstatestorage');
group('VM.Config.Cloudinit', 'cicustom cipassword citype ciuser ciupgrade nameserver searchdomain sshkeys');

/** Parameters that are not config keys. */
const CONTROL_PARAMS = new Set(['node', 'vmid', 'digest', 'delete', 'revert', 'force', 'skiplock', 'background_delay', 'import-working-storage']);

/** qemu-server $fast_plug_option: applied at once even on a running VM. */
const FAST_PLUG = new Set(['description', 'hookscript', 'lock', 'migrate_downtime', 'migrate_speed', 'name', 'onboot', 'protection', 'shares', 'startup', 'tags', 'vmstatestorage']);

/** Drive options a running VM cannot change (vmconfig_update_disk: `die "skip"`). */
const NOT_HOTPLUGGABLE = ['aio', 'cache', 'discard', 'iothread', 'product', 'queues', 'ro', 'ssd', 'vendor'];

export interface UpdateRequest {
  /** Config keys to set, values as sent (drive strings already canonical). */
  set: Record<string, string>;
  deletes: string[];
  reverts: string[];
  force: boolean;
  digest?: string;
  skiplock: boolean;
  /** All parameters as sent (for the task log line and the test hook). */
  raw: Record<string, string>;
}

function splitList(v: string | undefined): string[] {
  return splitPveList(v ?? '');
}

/** 403 unless the principal holds every listed privilege on the path. */
export function requirePrivs(p: Principal, path: string, privs: readonly string[]): void {
  const have = privilegesOn(p, path);
  for (const priv of privs) if (!have.has(priv)) throw permissionError(path, [priv]);
}

/** 403 unless the principal holds at least one of the privileges on the path. */
export function requireAnyPriv(p: Principal, path: string, privs: readonly string[]): void {
  const have = privilegesOn(p, path);
  if (!privs.some((x) => have.has(x))) throw permissionError(path, privs);
}

/** $check_drive_perms: cloud-init, CD-ROM or disk privilege for a drive value. */
function checkDrivePerms(p: Principal, vmid: number, key: string, value: string): void {
  const drive = parseDrive(key, value, { vmid });
  const path = `/vms/${vmid}`;
  if (drive.isCloudinit) requireAnyPriv(p, path, ['VM.Config.Cloudinit', 'VM.Config.CDROM']);
  else if (drive.isCdrom || drive.file === 'none' || drive.file === 'cdrom') requirePrivs(p, path, ['VM.Config.CDROM']);
  else requirePrivs(p, path, ['VM.Config.Disk']);
}

/** $check_vm_modify_config_perm for non-drive keys. */
function checkOptionPerms(p: Principal, vmid: number, keys: readonly string[]): void {
  const path = `/vms/${vmid}`;
  for (const opt of keys) {
    if (isValidDriveName(opt) || opt === 'cdrom' || /^(?:unused|serial|usb|hostpci)\d+$/.test(opt) || opt === 'tags') continue;
    const priv = PRIV_BY_OPTION[opt];
    if (priv === 'VM.Config.Cloudinit' || /^ipconfig\d+$/.test(opt)) requireAnyPriv(p, path, ['VM.Config.Cloudinit', 'VM.Config.Network']);
    else if (priv) requirePrivs(p, path, [priv]);
    else if (/^numa\d+$/.test(opt)) requirePrivs(p, path, ['VM.Config.CPU']);
    else if (/^net\d+$/.test(opt)) requirePrivs(p, path, ['VM.Config.Network']);
    else if (!isRoot(p)) throw dieError(`only root can set '${opt}' config`);
  }
}

/**
 * The per-parameter 400 texts for drive values, from the drive formats of src/pve (PVE's
 * parse_property_string wording: the first structural problem dies, value problems are listed
 * after `format error`).
 */
export function driveParamError(key: string, value: string): string | null {
  const dk = parseDriveKey(key);
  if (!dk) return null;
  const { problems } = scanPropertyString(value, driveFormat(dk.kind, { alloc: true }));
  const structural = problems.find((x) => x.kind === 'structure');
  if (structural) return `invalid format - ${structural.reason}\n`;
  const values = problems.filter((x) => x.kind === 'value');
  if (values.length === 0) return null;
  return `invalid format - format error\n${values.map((x) => `${key}.${x.key}: ${x.reason}\n`).join('')}`;
}

/**
 * The checks PVE makes before it forks the worker. Throws 400/403/500 as PVE does; returns the
 * request to run under the lock. `params` have passed schema validation.
 */
export function prepareUpdate(state: SimState, p: Principal, vm: SimVm, params: Record<string, string>): UpdateRequest {
  const vmid = vm.vmid;
  const deletes = splitList(params.delete).map((k) => k.replace(/^!/, ''));
  const reverts = splitList(params.revert);
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!CONTROL_PARAMS.has(k)) set[k] = v;
  if (Object.keys(set).length === 0 && deletes.length === 0 && reverts.length === 0) throw dieError('no options specified');
  if (params.skiplock === '1' && !isRoot(p)) throw dieError('Only root may use this option.');
  for (const k of Object.keys(set)) {
    if (deletes.includes(k)) throw dieError(`you can't use '-${k}' and -delete ${k}' at the same time`);
    if (reverts.includes(k)) throw dieError(`you can't use '-${k}' and '-revert ${k}' at the same time`);
  }
  for (const k of deletes) if (reverts.includes(k)) throw dieError(`you can't use '-delete ${k}' and '-revert ${k}' at the same time`);

  // Drive values: parse_drive, cleanup_drive_path, print_drive (canonical form is what is stored).
  for (const [k, v] of Object.entries(set)) {
    if (!isValidDriveName(k) && !/^(efidisk|tpmstate)0$/.test(k)) continue;
    let drive = parseDrive(k, v, { vmid, alloc: true });
    if (drive.issues.some((i) => i.severity === 'error')) throw paramError({ [k]: 'unable to parse drive options' });
    if ((drive.file === 'none' || drive.file === 'cdrom') && getPart(drive.options, 'media') === undefined) {
      drive = { ...drive, options: setPart(drive.options, 'media', 'cdrom'), isCdrom: true };
    }
    if (drive.file.startsWith('/') && !isRoot(p)) throw permissionError(`/vms/${vmid}`, ['only root can pass arbitrary filesystem paths']);
    set[k] = canonicalDriveString(drive);
  }

  checkOptionPerms(p, vmid, [...deletes, ...Object.keys(set), ...reverts]);
  for (const [k, v] of Object.entries(set)) if (isValidDriveName(k) || /^(efidisk|tpmstate)0$/.test(k)) checkDrivePerms(p, vmid, k, v);
  // $check_storage_access: allocations need Datastore.AllocateSpace on the storage.
  for (const [k, v] of Object.entries(set)) {
    const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)(?:,|$)/i.exec(v);
    if (m && (isValidDriveName(k) || /^(efidisk|tpmstate)0$/.test(k))) {
      if (!state.storage.storages.has(m[1]!)) throw dieError(`storage '${m[1]}' does not exist`);
      requirePrivs(p, `/storage/${m[1]}`, ['Datastore.AllocateSpace']);
    }
  }

  const file = state.config(vm);
  for (const k of deletes) {
    const cur = file.main.entries.get(k)?.value ?? file.pending?.entries.get(k)?.value;
    // Removing a disk (or an unused volume) is checked against the old value, like $check_drive_perms.
    if (cur !== undefined && isValidDriveName(k)) checkDrivePerms(p, vmid, k, cur);
    else if (cur !== undefined && k.startsWith('unused')) requirePrivs(p, `/vms/${vmid}`, ['VM.Config.Disk']);
  }
  checkDigestAndLock(state, file, params.digest, params.skiplock === '1');
  return { set, deletes, reverts, force: params.force === '1', ...(params.digest ? { digest: params.digest } : {}), skiplock: params.skiplock === '1', raw: params };
}

/** `checksum mismatch` (the typo `missmatch` on PVE <= 8.2) and `VM is locked (...)`, in PVE's order. */
export function checkDigestAndLock(state: SimState, file: VmConfigFile, digest: string | undefined, skiplock: boolean): void {
  if (digest && digest !== file.digest) {
    throw dieError(`checksum ${state.pveVersion === '8.2' ? 'missmatch' : 'mismatch'} (file change by other user?)`);
  }
  const lock = file.main.entries.get('lock')?.value;
  if (lock && !skiplock) throw dieError(`VM is locked (${lock})`);
}

/** The first task log line: `update VM 100: -key value ...`, keys sorted, passwords hidden. */
export function updateLogLine(vmid: number, raw: Record<string, string>): string {
  const args = Object.keys(raw)
    .filter((k) => !['node', 'vmid', 'digest', 'background_delay', 'skiplock'].includes(k))
    .sort()
    .map((k) => {
      const v = k === 'cipassword' ? '<hidden>' : raw[k]!;
      return `-${k} ${/[\s']/.test(v) ? `'${v.replace(/'/g, "'\\''")}'` : v}`;
    });
  return `update VM ${vmid}: ${args.join(' ')}`;
}

interface HotplugFeatures {
  disk: boolean;
  network: boolean;
  usb: boolean;
  memory: boolean;
  cpu: boolean;
}

function hotplugFeatures(value: string | undefined): HotplugFeatures {
  const v = value === undefined || value === '1' ? 'network,disk,usb' : value === '0' ? '' : value;
  const set = new Set(v.split(',').map((s) => s.trim()));
  return { disk: set.has('disk'), network: set.has('network'), usb: set.has('usb'), memory: set.has('memory'), cpu: set.has('cpu') };
}

function boolOpt(d: Drive, key: string): string | undefined {
  const v = getPart(d.options, key);
  if (v === undefined) return undefined;
  const b = parsePveBoolean(v);
  return b === null ? v : b ? '1' : '0';
}

/** vmconfig_hotplug_pending's decision for one pending value: true = applied live (committed). */
function hotplugsValue(key: string, oldValue: string | undefined, newValue: string, hp: HotplugFeatures, vmid: number): boolean {
  if (FAST_PLUG.has(key)) return true;
  if (key === 'tablet') return hp.usb;
  if (/^usb\d+$/.test(key)) return hp.usb;
  if (/^net\d+$/.test(key)) return hp.network;
  if (key === 'balloon' || key === 'cpulimit' || key === 'cpuunits') return true;
  if (key === 'vcpus') return hp.cpu;
  if (key === 'memory') return hp.memory;
  if (!isValidDriveName(key)) return false; // scsihw, machine, efidisk0, tpmstate0, cloud-init options ...
  const next = parseDrive(key, newValue, { vmid });
  if (oldValue !== undefined) {
    const old = parseDrive(key, oldValue, { vmid });
    if (old.isCdrom) return true; // media change (eject / insert)
    if (old.file !== next.file) return hp.disk; // unplug the old disk, plug the new one
    return !NOT_HOTPLUGGABLE.some((opt) => boolOpt(old, opt) !== boolOpt(next, opt)); // throttles apply live
  }
  return hp.disk && !/^(ide|sata)\d+$/.test(key);
}

/** Whether a pending deletion is applied live on a running VM. */
function hotplugsDelete(key: string, hp: HotplugFeatures): boolean {
  if (FAST_PLUG.has(key)) return true;
  if (key === 'tablet' || /^usb\d+$/.test(key)) return hp.usb;
  if (/^net\d+$/.test(key)) return hp.network;
  if (key === 'balloon' || key === 'cpulimit' || key === 'cpuunits') return true;
  if (isValidDriveName(key)) return hp.disk && !/^(ide|sata)\d+$/.test(key);
  return false;
}

/** Applies the pending changes a running VM can take live; the rest stays in [PENDING]. */
function hotplugPending(file: VmConfigFile, vmid: number): { file: VmConfigFile; warnings: string[] } {
  const pending = file.pending;
  if (!pending) return { file, warnings: [] };
  const hp = hotplugFeatures(file.main.entries.get('hotplug')?.value);
  const keepValues = [...pending.entries.values()].filter((e) => !hotplugsValue(e.key, file.main.entries.get(e.key)?.value, e.value, hp, vmid));
  const keepDeletes = pending.deletes.filter((d) => !hotplugsDelete(d.key, hp));
  // The description is a $fast_plug_option: it always commits at once (it lives outside `entries`).
  const nothingApplies = keepValues.length === pending.entries.size && keepDeletes.length === pending.deletes.length && pending.description === null;
  if (nothingApplies) return { file, warnings: [] };
  // Apply the hot-pluggable subset with PVE's own apply logic, then put the rest back.
  let subset = file;
  for (const e of keepValues) subset = deleteConfigKey(subset, 'pending', e.key);
  for (const d of keepDeletes) subset = removePendingDelete(subset, d.key);
  const applied = applyPendingWithWarnings(subset);
  let out = applied.file;
  for (const e of keepValues) out = setConfigValue(out, 'pending', e.key, e.value);
  for (const d of keepDeletes) out = addPendingDelete(out, d.key, d.force);
  return { file: out, warnings: applied.warnings.map((w) => w.message) };
}

/** cleanup_pending: drop pending values equal to the current ones and deletions of unset keys. */
function cleanupPending(file: VmConfigFile): VmConfigFile {
  const p = file.pending;
  if (!p) return file;
  let out = file;
  for (const e of p.entries.values()) if (file.main.entries.get(e.key)?.value === e.value) out = deleteConfigKey(out, 'pending', e.key);
  for (const d of p.deletes) if (!file.main.entries.has(d.key) && !(d.key === 'description' && file.main.description !== null)) out = removePendingDelete(out, d.key);
  return dropEmptyPending(out);
}

function dropEmptyPending(file: VmConfigFile): VmConfigFile {
  const p = file.pending;
  if (p && p.entries.size === 0 && p.deletes.length === 0 && p.description === null) return { ...file, pending: null };
  return file;
}

/** Stores the new text; volumes of newly written drives become known to the storage layer. */
function commit(state: SimState, vm: SimVm, file: VmConfigFile): void {
  state.writeConfig(vm, printVmConfig(dropEmptyPending(file)));
  state.registerVolumes(state.config(vm));
}

/**
 * The worker under the config lock. Re-checks digest and lock (a concurrent edit since the
 * pre-fork check fails here), then writes the changes. `ctx` collects warnings (task log).
 */
export async function runUpdate(state: SimState, vm: SimVm, req: UpdateRequest, ctx: Pick<TaskContext, 'warn' | 'log'>): Promise<void> {
  await state.onBeforeWrite?.(vm.vmid, req.raw);
  let file = state.config(vm);
  checkDigestAndLock(state, file, req.digest, req.skiplock);
  const vmid = vm.vmid;

  for (const k of req.reverts) {
    file = deleteConfigKey(file, 'pending', k);
    file = removePendingDelete(file, k);
  }
  for (const k of req.deletes) {
    const cur = file.main.entries.get(k)?.value ?? file.pending?.entries.get(k)?.value;
    const isDescription = k === 'description' && (file.main.description !== null || file.pending?.description != null);
    if (cur === undefined && !isDescription) {
      ctx.warn(`cannot delete '${k}' - not set in current configuration!`);
      continue;
    }
    const onlyPending = !file.main.entries.has(k) && !isDescription;
    file = deleteConfigKey(file, 'pending', k);
    if (k.startsWith('unused')) {
      // Deleting an unused disk destroys its volume at once.
      state.storage.remove(parseDrive(k, cur!, { vmid }).file);
      file = deleteConfigKey(file, 'main', k);
    } else if (!onlyPending) {
      file = addPendingDelete(file, k, req.force);
    }
  }
  for (const [k, v] of Object.entries(req.set)) {
    if (file.pending?.entries.get(k)?.value === v) continue;
    file = setConfigValue(file, 'pending', k, resolveVolume(state, vmid, k, v, file.main.entries.get(k)?.value));
    file = removePendingDelete(file, k);
  }
  file = cleanupPending(file);
  commit(state, vm, file);
  file = state.config(vm);
  if (!file.pending) return;
  if (vm.status === 'running') {
    const res = hotplugPending(file, vmid);
    for (const w of res.warnings) ctx.warn(w);
    commit(state, vm, res.file);
  } else {
    const res = applyPendingWithWarnings(file);
    for (const w of res.warnings) ctx.warn(w.message);
    commit(state, vm, res.file);
  }
}

/**
 * create_disks for one drive value: `STORAGE:SIZE` allocates a new volume, an existing volume
 * gets `size=` from the storage (dies when it does not exist); CD-ROMs and paths are kept.
 */
function resolveVolume(state: SimState, vmid: number, key: string, value: string, oldValue: string | undefined): string {
  if (!isValidDriveName(key) && !/^(efidisk|tpmstate)0$/.test(key)) return value;
  const drive = parseDrive(key, value, { vmid, alloc: true });
  if (drive.isCdrom || !drive.storage) return value;
  const alloc = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(drive.file);
  if (alloc) {
    const gib = Number(alloc[2]);
    const fmt = getPart(drive.options, 'format');
    const volid = state.storage.allocate(alloc[1]!, vmid, gib === 0 ? 0.004 : gib, fmt);
    let ps = drive.options;
    ps = { parts: ps.parts.map((p) => (p.key === 'file' ? { ...p, value: volid } : p)) };
    ps = setPart(ps, 'size', state.storage.sizeText(volid)!);
    return canonicalDriveString({ ...drive, options: ps, file: volid });
  }
  if (!state.storage.exists(drive.file)) {
    // A volume already in this slot that the registry does not know (e.g. hand-made fleet) is trusted.
    const old = oldValue !== undefined ? parseDrive(key, oldValue, { vmid }) : null;
    if (!old || old.file !== drive.file) throw dieError(`volume ${drive.file} does not exist`);
    state.storage.register(drive.file, getPart(old.options, 'size'));
  }
  const ps = setPart(drive.options, 'size', state.storage.sizeText(drive.file)!);
  return canonicalDriveString({ ...drive, options: ps });
}
