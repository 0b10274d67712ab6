// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One VM of the audit: `VmInput` (from a config file offline, from the API online) → `VmReport`.
 * Both audits build a `VmInput` and call `analyzeVm`, so online and offline give the same report.
 */
import { checkConfigValue, configValues, driveOption, nextStartValues, parseDrive, parseDriveKey, volumeStorage } from '../pve/index.js';
import type { ConfigIssue, Drive, DriveBus, VmConfigFile } from '../pve/types.js';
import { type DiskContext, detachedFacts, diskFacts, effectiveScsihw, storageActivationError, storageTypeUnknownReason, volumeContentError } from '../analysis/disk-status.js';
import { type ResolvedMachine, resolveMachine } from '../analysis/machine.js';
import type { AnalysisEnv, DiskFacts, DiskReport, VmInput, VmReport, VolumeStartError } from '../analysis/types.js';
import { formatMachineVersion } from '../analysis/version.js';

const BUS_ORDER: readonly DriveBus[] = ['ide', 'sata', 'scsi', 'virtio'];

/** Keys that change disk facts when they are pending (beside the drives themselves). */
const DATAPLANE_KEYS = new Set(['scsihw', 'machine', 'template', 'ostype', 'arch']);

function isDiskKey(key: string): boolean {
  const parsed = parseDriveKey(key);
  return parsed !== null && (BUS_ORDER as readonly string[]).includes(parsed.kind);
}

function lineMap(entries: Iterable<{ key: string; line?: number }>): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const e of entries) if (e.line !== undefined) lines[e.key] = e.line;
  return lines;
}

/**
 * `VmInput` from a parsed config file. `node` is the node the file belongs to (its
 * `nodes/<node>/qemu-server/` folder), or null when unknown.
 */
export function vmInputFromFile(file: VmConfigFile, node: string | null): VmInput {
  const source = file.source ?? `${file.vmid ?? 'unknown'}.conf`;
  return {
    vmid: file.vmid ?? 0,
    node,
    source,
    digest: file.digest,
    current: configValues(file.main),
    pending: file.pending ? configValues(file.pending) : {},
    deletes: file.pending ? [...file.pending.deletes] : [],
    snapshots: file.snapshots.map((s) => configValues(s)),
    lines: {
      current: lineMap(file.main.entries.values()),
      pending: file.pending ? lineMap(file.pending.entries.values()) : {},
    },
    issues: file.issues.map((i) => ({ ...i, source: i.source ?? source })),
  };
}

/** One VM state (now, or after the next cold start) the disk rules run against. */
interface VmState {
  config: Record<string, string>;
  machine: ResolvedMachine;
  ctx: DiskContext;
}

/**
 * A top-level value as PVE holds it after reading (booleans 1/0, quotes stripped), or undefined
 * when unset or when PVE drops it for failing the schema.
 */
function pveValue(config: Record<string, string>, key: string): string | undefined {
  const raw = config[key];
  if (raw === undefined) return undefined;
  const checked = checkConfigValue(key, raw);
  return checked.problem === null ? checked.value : undefined;
}

/** The environment of one VM: its node's installed QEMU when that was read (online). */
function nodeEnv(env: AnalysisEnv, node: string | null): AnalysisEnv {
  const read = node === null ? undefined : env.installedQemuByNode?.[node];
  return read ? { ...env, installedQemu: read, installedQemuAssumed: false } : env;
}

function vmState(config: Record<string, string>, env: AnalysisEnv, node: string | null, runningMachine?: string): VmState {
  const machine = resolveMachine(
    {
      machine: pveValue(config, 'machine'),
      ostype: pveValue(config, 'ostype'),
      meta: pveValue(config, 'meta'),
      template: pveValue(config, 'template'),
      arch: pveValue(config, 'arch'),
      runningMachine,
    },
    env,
  );
  return {
    config,
    machine,
    ctx: {
      scsihw: pveValue(config, 'scsihw') ?? null,
      machine,
      template: pveValue(config, 'template') === '1',
      storages: env.storages,
      node,
      ...(env.unreadableStorages ? { unreadableStorages: env.unreadableStorages } : {}),
      ...(env.storageTypesUnknown !== undefined ? { storageTypesUnknown: env.storageTypesUnknown } : {}),
    },
  };
}

/** Same facts as a user sees them (deviations explain, they are no facts of their own). */
function sameFacts(a: DiskFacts, b: DiskFacts): boolean {
  if (
    a.qemuDevice !== b.qemuDevice ||
    a.controller !== b.controller ||
    a.controllerId !== b.controllerId ||
    a.iothread.configured !== b.iothread.configured ||
    a.iothread.effective !== b.iothread.effective ||
    a.aio.configured !== b.aio.configured ||
    a.aio.effective !== b.aio.effective ||
    a.cacheDirect !== b.cacheDirect ||
    a.startError !== b.startError
  ) {
    return false;
  }
  const ua = a.unknown ?? [];
  const ub = b.unknown ?? [];
  return ua.length === ub.length && ua.every((u, i) => u.field === ub[i]!.field && u.reason === ub[i]!.reason);
}

interface EvaluatedDrive {
  drive: Drive;
  facts: DiskFacts;
}

/** Drive + facts for one key in one state; issues are located (file, line, key) and collected. */
function evaluate(
  key: string,
  state: VmState,
  input: VmInput,
  line: number | undefined,
  issues: ConfigIssue[],
): EvaluatedDrive {
  const drive = parseDrive(key, state.config[key] as string, { vmid: input.vmid });
  const errors: string[] = [];
  for (const issue of drive.issues) {
    issues.push({
      ...issue,
      source: issue.source ?? input.source,
      line: issue.line ?? line,
      key: issue.key ?? key,
    });
    if (issue.severity === 'error') errors.push(issue.message);
  }
  if (drive.storage !== null && !state.ctx.storages.has(drive.storage) && storageTypeUnknownReason(drive.storage, state.ctx) === null) {
    issues.push({
      source: input.source,
      line,
      key,
      severity: 'error',
      message: `${key}: storage '${drive.storage}' is not defined in storage.cfg, so PVE cannot start this VM ("storage '${drive.storage}' does not exist"); check the storage id, or audit with the node's storage.cfg`,
    });
  }
  const facts = errors.length > 0 ? detachedFacts(drive, errors.join('; ')) : diskFacts(drive, state.ctx);
  return { drive, facts };
}

function diskReport(ev: EvaluatedDrive, env: AnalysisEnv, facts: DiskFacts): DiskReport {
  const { drive } = ev;
  return {
    key: drive.key,
    bus: drive.kind as DriveBus,
    media: drive.isCdrom ? 'cdrom' : 'disk',
    volume: drive.file,
    qemuDevice: facts.qemuDevice,
    controller: facts.controller,
    controllerId: facts.controllerId,
    iothread: facts.iothread,
    aio: facts.aio,
    cacheDirect: facts.cacheDirect,
    deviations: facts.deviations,
    startError: facts.startError,
    ...(facts.unknown ? { unknown: facts.unknown } : {}),
    storage: drive.storage,
    storageType: drive.storage === null ? null : (env.storages.get(drive.storage)?.type ?? null),
    cache: driveOption(drive, 'cache') ?? null,
  };
}

const NO_FACTS: DiskFacts = {
  qemuDevice: null,
  controller: null,
  controllerId: null,
  iothread: { configured: false, effective: false },
  aio: { configured: null, effective: null },
  cacheDirect: null,
  deviations: [],
  startError: null,
};

/** The volumes vm_start checks beside the disks (QemuServer.pm `get_current_vm_volumes`). */
const OTHER_VOLUME_KEYS = ['efidisk0', 'tpmstate0', 'vmstate'] as const;

/**
 * The start errors of efidisk0, tpmstate0 and `vmstate` in one state: the content check vm_start
 * runs on them as on every disk (a drive line PVE rejects is left to its own issue).
 */
function volumeStartErrors(state: VmState, vmid: number): VolumeStartError[] {
  const out: VolumeStartError[] = [];
  for (const key of OTHER_VOLUME_KEYS) {
    const value = state.config[key];
    if (value === undefined) continue;
    const volume = key === 'vmstate' ? { file: value, storage: volumeStorage(value) } : parseDrive(key, value, { vmid });
    const storage = volume.storage === null ? undefined : state.ctx.storages.get(volume.storage);
    for (const error of [volumeContentError(volume, storage), storageActivationError(volume.storage, storage, state.ctx.node)]) {
      if (error !== null) out.push({ key, volume: volume.file, error });
    }
  }
  return out;
}

function compareDiskKeys(a: string, b: string): number {
  const ka = parseDriveKey(a);
  const kb = parseDriveKey(b);
  if (!ka || !kb) return a < b ? -1 : 1;
  return BUS_ORDER.indexOf(ka.kind as DriveBus) - BUS_ORDER.indexOf(kb.kind as DriveBus) || ka.index - kb.index;
}

function sameIssue(a: ConfigIssue, b: ConfigIssue): boolean {
  return a.source === b.source && a.line === b.line && a.message === b.message;
}

/**
 * Effective disk status of one VM, now and after its next cold start (docs/how-qemu-server-decides.md).
 * `risk` is left unset (added by the risk engine); `issues` carries the config problems found.
 */
export function analyzeVm(input: VmInput, analysisEnv: AnalysisEnv): VmReport {
  const env = nodeEnv(analysisEnv, input.node);
  const issues: ConfigIssue[] = input.issues.map((i) => ({ ...i, source: i.source ?? input.source }));
  const running = input.runtime?.status === 'running' ? input.runtime.runningMachine : undefined;
  const now = vmState(input.current, env, input.node, running);
  // Without pending changes or a running machine to leave, the next cold start runs what is there now.
  const unchanged = !running && Object.keys(input.pending).length === 0 && input.deletes.length === 0;
  const next = unchanged ? { config: input.current, failedDeletes: [] } : nextStartValues(input.vmid, input.current, input.pending, input.deletes, input.snapshots ?? []);
  const after = unchanged ? now : vmState(next.config, env, input.node);

  for (const failed of next.failedDeletes) {
    issues.push({ source: input.source, key: failed.key, severity: 'warning', message: failed.reason });
  }
  for (const m of unchanged ? [now.machine] : [now.machine, after.machine]) {
    if (m.issue) issues.push({ source: input.source, line: input.lines?.current.machine, key: 'machine', severity: 'warning', message: m.issue });
  }
  const machineError = now.machine.startError ?? after.machine.startError;
  if (machineError) {
    issues.push({ source: input.source, key: 'machine', severity: 'error', message: `${machineError}: the VM does not start` });
  }

  // The disk keys of both states, each once (the sort order is total: insertion order does not matter).
  const keys: string[] = [];
  for (const key of Object.keys(now.config)) if (isDiskKey(key)) keys.push(key);
  if (after.config !== now.config) for (const key of Object.keys(after.config)) if (!Object.hasOwn(now.config, key) && isDiskKey(key)) keys.push(key);
  keys.sort(compareDiskKeys);
  const disks: DiskReport[] = [];
  const driveIssues: ConfigIssue[] = [];
  for (const key of keys) {
    const inNow = now.config[key] !== undefined;
    const inNext = after.config[key] !== undefined;
    const evNow = inNow ? evaluate(key, now, input, input.lines?.current[key], driveIssues) : null;
    const pendingLine = input.pending[key] !== undefined ? input.lines?.pending[key] : input.lines?.current[key];
    const evNext = unchanged ? evNow : inNext ? evaluate(key, after, input, pendingLine, driveIssues) : null;
    if (evNow) {
      const report = diskReport(evNow, env, evNow.facts);
      if (!evNext) report.pending = { deleted: true };
      else if (!sameFacts(evNow.facts, evNext.facts)) report.pending = evNext.facts;
      disks.push(report);
    } else if (evNext) {
      const report = diskReport(evNext, env, NO_FACTS);
      report.deviations = [];
      report.pending = evNext.facts;
      report.onlyPending = true;
      disks.push(report);
    }
  }
  for (const issue of driveIssues) if (!issues.some((i) => sameIssue(i, issue))) issues.push(issue);

  const scsihwNow = now.ctx.scsihw;
  const scsihwNext = after.ctx.scsihw;
  const scsihw: VmReport['scsihw'] = { configured: scsihwNow, effective: effectiveScsihw(scsihwNow) };
  if (scsihwNext !== scsihwNow) scsihw.pending = { configured: scsihwNext, effective: effectiveScsihw(scsihwNext) };

  const machine: VmReport['machine'] = {
    configured: now.machine.configured,
    version: formatMachineVersion(now.machine.version),
    type: now.machine.type,
    blockdev: now.machine.blockdev,
    basis: now.machine.basis,
  };
  const nextVersion = formatMachineVersion(after.machine.version);
  if (nextVersion !== machine.version || after.machine.type !== machine.type) {
    machine.pending = { version: nextVersion, type: after.machine.type, blockdev: after.machine.blockdev, basis: after.machine.basis };
  }
  if (after.machine.startError) machine.startError = after.machine.startError;

  const dataplaneKey = (k: string): boolean => isDiskKey(k) || DATAPLANE_KEYS.has(k);
  const pendingDataplaneChanges = Object.keys(input.pending).some(dataplaneKey) || input.deletes.some((d) => dataplaneKey(d.key));

  const volumeErrors = volumeStartErrors(after, input.vmid);
  const cur = input.current;
  return {
    vmid: input.vmid,
    name: input.runtime?.name ?? cur.name ?? null,
    node: input.node,
    status: input.runtime?.status ?? 'unknown',
    // The contract says `api`; the input's `api:/nodes/...` path stays in the issues.
    source: input.source.startsWith('api:') ? 'api' : input.source,
    digest: input.digest,
    ostype: pveValue(cur, 'ostype') ?? null,
    template: now.ctx.template,
    lock: pveValue(cur, 'lock') ?? null,
    scsihw,
    machine,
    disks,
    pendingDataplaneChanges,
    ...(volumeErrors.length > 0 ? { volumeStartErrors: volumeErrors } : {}),
    issues,
  };
}
