// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The aio mode and start failures: aio=native next to an IO thread, aio=native without O_DIRECT
 * (QEMU refuses to start), and any other start error the disk analysis found. Where the aio mode or
 * O_DIRECT could not be determined (a storage whose type we cannot see), the part is NOT_CHECKED.
 */
import { unknownReason } from '../disk-status.js';
import type { FixStep, RiskReason, VmReport } from '../types.js';
import type { DiskInForce, RiskContext } from './context.js';
import { APPLY_HINT, COLD_START, carriesData, disksAtNextStart, evidence, nextStartDisks, reason, runState } from './context.js';

const NUMERIC = new Intl.Collator('en', { numeric: true });

/** QEMU's file-posix error text for aio=native without cache.direct (docs/how-qemu-server-decides.md#aio). */
const AIO_NATIVE_ERROR = /aio=native was specified, but it requires cache\.direct=on/;

/**
 * AIO_NATIVE_IOTHREAD: aio=native on a disk that has an IO thread. One forum report (Proxmox forum thread 84212):
 * with native the "jitter/freeze moves into the iothread"; aio=threads removed it. Anecdotal,
 * hence `info`.
 */
export function aioNativeIothreadReasons(ctx: RiskContext): RiskReason[] {
  return ctx.disks
    .filter((d) => carriesData(d.disk, d.facts) && d.facts.iothread.effective && d.facts.aio.effective === 'native')
    .map((d) =>
      reason({
        code: 'AIO_NATIVE_IOTHREAD',
        severity: 'info',
        disk: d.disk.key,
        message: `${d.disk.key} uses aio=native with an IO thread; a forum report saw the stalls move into the IO thread with native and disappear with aio=threads.`,
        evidence: [
          evidence('config', `${d.disk.key}.aio`, d.facts.aio.configured ?? 'unset'),
          evidence('effective', `${d.disk.key}.aio`, 'native'),
          evidence('effective', `${d.disk.key}.iothread`, true),
        ],
        fix: `If this VM still stalls, set aio=threads on ${d.disk.key}, ${APPLY_HINT}.`,
        steps: [{ action: 'set-aio', disks: [d.disk.key], value: 'threads', ifStalls: true }, COLD_START],
      }),
    );
}

/**
 * AIO_NATIVE_NO_DIRECT (critical): aio=native without O_DIRECT. qemu-server passes it through and
 * QEMU's file-posix driver refuses to open the image, so the VM does not start (docs/how-qemu-server-decides.md#aio).
 * Checked on the facts of the next start: for a running VM that is the pending view.
 */
export function aioNativeNoDirectReasons(ctx: RiskContext): RiskReason[] {
  const running = runState(ctx.vm) !== 'stopped';
  return nextStartDisks(ctx)
    .filter((d) => d.facts.aio.effective === 'native' && d.facts.cacheDirect === false)
    .map((d) =>
      reason({
        code: 'AIO_NATIVE_NO_DIRECT',
        severity: 'critical',
        disk: d.disk.key,
        message: `${d.disk.key} combines aio=native with a cache mode without O_DIRECT (${d.disk.cache ?? 'default'}), which QEMU refuses, so the ${running ? 'next cold start of the VM will fail' : 'VM will not start'}.`,
        evidence: [
          evidence('config', `${d.disk.key}.aio`, d.facts.aio.configured ?? 'unset'),
          evidence('config', `${d.disk.key}.cache`, d.disk.cache ?? 'unset'),
          evidence('effective', `${d.disk.key}.cacheDirect`, false),
          evidence('log', 'QEMU', 'aio=native was specified, but it requires cache.direct=on, which was not specified.'),
          ...(d.fromPending ? [evidence('effective', 'applies', 'at the next start (pending values)')] : []),
        ],
        fix: `Set aio=threads on ${d.disk.key} (valid with every cache mode), or cache=none if you need aio=native.`,
        steps: [{ action: 'set-aio', disks: [d.disk.key], value: 'threads', orCacheNone: true }],
      }),
    );
}

/** qemu-server's error for a volume whose storage is not in storage.cfg. */
const MISSING_STORAGE = /^storage '([^']+)' does not exist$/;

/**
 * START_ERROR (critical): any other reason the disk analysis says QEMU/qemu-server refuses to start.
 *
 * A storage missing from the storage.cfg that was read is not reported as critical: with a partial
 * or absent storage.cfg (`--conf` without `--storage-cfg`) every storage is "missing", and the disk
 * facts rest on an assumed storage type. That part is NOT_CHECKED, once per storage, and says what it
 * means if the storage.cfg was the node's own.
 */
export function startErrorReasons(ctx: RiskContext): RiskReason[] {
  const running = runState(ctx.vm) !== 'stopped';
  const out: RiskReason[] = [];
  const missing = new Map<string, string[]>();
  for (const d of nextStartDisks(ctx)) {
    if (!d.facts.startError) continue;
    const key = d.disk.key;
    const errors = d.facts.startError
      .split('; ')
      .map((e) => (e.startsWith(`${key}: `) ? e.slice(key.length + 2) : e))
      .filter((e) => e !== '' && !AIO_NATIVE_ERROR.test(e));
    for (const err of errors) {
      const storage = MISSING_STORAGE.exec(err)?.[1];
      if (storage !== undefined) {
        missing.set(storage, [...(missing.get(storage) ?? []), key]);
        continue;
      }
      out.push(
        reason({
          code: 'START_ERROR',
          severity: 'critical',
          disk: key,
          message: `${key}: ${err}, so the ${running ? 'next cold start of the VM will fail' : 'VM will not start'}.`,
          evidence: [evidence('effective', `${key}.startError`, err)],
          fix: `Correct ${key} in the VM config before the next start.`,
          steps: [{ action: 'correct-config', key }],
        }),
      );
    }
  }
  // The machine type: qemu-server's start refuses a pin the node's QEMU or qemu-server cannot run.
  const machineError = ctx.vm.machine.startError;
  if (machineError) {
    out.push(
      reason({
        code: 'START_ERROR',
        severity: 'critical',
        message: `machine: ${machineError}, so the ${running ? 'next cold start of the VM will fail' : 'VM will not start'}.`,
        evidence: [evidence('effective', 'machine.version', ctx.vm.machine.pending?.version ?? ctx.vm.machine.version), evidence('effective', 'machine.startError', machineError)],
        fix: 'Pin a machine version the node runs (Hardware → Machine), or upgrade the node’s pve-qemu-kvm and qemu-server, before the next start.',
        steps: [{ action: 'correct-config', key: 'machine' }],
      }),
    );
  }
  // efidisk0, tpmstate0, vmstate: no facts of their own, only what vm_start refuses about them.
  for (const v of ctx.vm.volumeStartErrors ?? []) {
    out.push(
      reason({
        code: 'START_ERROR',
        severity: 'critical',
        disk: v.key,
        message: `${v.key}: ${v.error}, so the ${running ? 'next cold start of the VM will fail' : 'VM will not start'}.`,
        evidence: [evidence('config', v.key, v.volume), evidence('effective', `${v.key}.startError`, v.error)],
        fix:
          v.key === 'vmstate'
            ? `Add the content type to the storage's content list (Datacenter → Storage) before the VM is started again (it resumes from this saved state).`
            : `Add the content type to the storage's content list (Datacenter → Storage), or move ${v.key} to a storage that holds it, before the next start.`,
        steps: [{ action: 'correct-config', key: v.key }],
      }),
    );
  }
  for (const [storage, keys] of missing) {
    out.push(
      reason({
        code: 'NOT_CHECKED',
        severity: 'unknown',
        message: `Could not check ${keys.join(', ')} fully: storage '${storage}' is not in the storage.cfg that was read, so the facts assume a local file; if the node has no such storage either, the VM does not start.`,
        evidence: [evidence('missing', 'storage.cfg', `storage '${storage}' not defined (used by ${keys.join(', ')})`)],
        fix: `Audit with the node's storage.cfg (--config-dir, or --storage-cfg); if '${storage}' is really gone, move ${keys.join(', ')} to an existing storage.`,
        steps: [{ action: 'check-storage', storage, disks: keys }],
      }),
    );
  }
  return out;
}

/** Per storage whose type is unknown: the disks whose aio checks it leaves open. */
interface OpenAioCheck {
  why: string;
  keys: Set<string>;
  noDirect: boolean;
  nativeIothread: boolean;
}

/**
 * Whether aio=native may meet a cache without O_DIRECT (AIO_NATIVE_NO_DIRECT) on a disk whose aio
 * or O_DIRECT is unknown. Only an explicit aio=native can: the default is native only with O_DIRECT.
 */
function noDirectOpen(d: DiskInForce): boolean {
  const f = d.facts;
  const open = unknownReason(f, 'aio') !== null || unknownReason(f, 'cacheDirect') !== null;
  return open && f.aio.configured === 'native' && f.cacheDirect !== true;
}

/**
 * Whether a data disk with an IO thread may run aio=native (AIO_NATIVE_IOTHREAD) while its aio is
 * unknown: explicitly native, or unset where the storage type picks the default (native on LVM or
 * CIFS with O_DIRECT).
 */
function nativeIothreadOpen(d: DiskInForce): boolean {
  const f = d.facts;
  if (unknownReason(f, 'aio') === null || !carriesData(d.disk, f) || !f.iothread.effective) return false;
  return f.aio.configured === 'native' || (f.aio.configured === null && f.cacheDirect !== false);
}

/** unknownStorageFix as data. */
function unknownStorageStep(storage: string, why: string, online: boolean): FixStep {
  const privilege = /Datastore\.Audit on \S+/.exec(why)?.[0];
  if (privilege) return { action: 'grant-privilege', privilege };
  if (online) return { action: 'check-source', source: `/storage and /access/permissions (Datastore.Audit on /storage/${storage})` };
  return { action: 'give-storage-cfg' };
}

/** What to do about a storage type the audit could not see, by why. */
function unknownStorageFix(storage: string, why: string, online: boolean): string {
  const privilege = /Datastore\.Audit on \S+/.exec(why)?.[0];
  if (privilege) return `Give the audit token ${privilege} (the PVEAuditor role has it), then audit again.`;
  if (online) return `Check that /storage and /access/permissions answer for this token (it needs Datastore.Audit on /storage/${storage}), then audit again.`;
  return "Audit with the node's storage.cfg (--config-dir, or --storage-cfg).";
}

/**
 * NOT_CHECKED (unknown), once per storage: the aio checks of the disks on a storage whose type
 * could not be read (token without Datastore.Audit, no or unreadable storage.cfg). The type decides
 * the default aio (LVM, CIFS, krbd), whether there is aio at all under -blockdev (librbd, iSCSI) and
 * O_DIRECT for an unset cache (btrfs), so AIO_NATIVE_NO_DIRECT and AIO_NATIVE_IOTHREAD are left open
 * where the unknown could make them fire - never read as "no aio" or as fine.
 */
export function unknownStorageReasons(ctx: RiskContext): RiskReason[] {
  const open = new Map<string, OpenAioCheck>();
  const note = (d: DiskInForce, which: 'noDirect' | 'nativeIothread'): void => {
    const why = unknownReason(d.facts, 'aio') ?? unknownReason(d.facts, 'cacheDirect');
    const storage = d.disk.storage;
    if (why === null || storage === null) return;
    const entry = open.get(storage) ?? { why, keys: new Set<string>(), noDirect: false, nativeIothread: false };
    entry.keys.add(d.disk.key);
    entry[which] = true;
    open.set(storage, entry);
  };
  for (const d of nextStartDisks(ctx)) if (noDirectOpen(d)) note(d, 'noDirect');
  for (const d of ctx.disks) if (nativeIothreadOpen(d)) note(d, 'nativeIothread');

  const online = ctx.vm.source === 'api' || ctx.vm.source.startsWith('api:');
  return [...open].map(([storage, c]) => {
    const keys = [...c.keys].sort(NUMERIC.compare).join(', ');
    const decides = [
      ...(c.noDirect ? ['whether aio=native meets a cache without O_DIRECT (then the VM does not start)'] : []),
      ...(c.nativeIothread ? ['whether aio=native runs next to an IO thread'] : []),
    ].join(' and ');
    return reason({
      code: 'NOT_CHECKED',
      severity: 'unknown',
      message: `Could not check ${keys} fully: the type of storage '${storage}' is unknown (${c.why}), and it decides ${decides}.`,
      evidence: [evidence('missing', online ? `/storage/${storage}` : 'storage.cfg', `storage '${storage}' type unknown: ${c.why} (used by ${keys})`)],
      fix: unknownStorageFix(storage, c.why, online),
      steps: [unknownStorageStep(storage, c.why, online)],
    });
  });
}

/**
 * Why the VM's next start will fail, as far as the config tells (aio=native without O_DIRECT, any
 * other start error of the disk analysis): the critical AIO_NATIVE_NO_DIRECT and START_ERROR
 * reasons. The migration engine asks this before it reboots or starts a VM, so it never restarts
 * a VM into a config QEMU refuses (the VM would stay stopped). A storage missing from what was read
 * is not counted (its type was unknown, not proven absent).
 */
export function nextStartFailures(vm: VmReport): RiskReason[] {
  const ctx: RiskContext = { vm, evidence: {}, state: runState(vm), disks: disksAtNextStart(vm) };
  return [...aioNativeNoDirectReasons(ctx), ...startErrorReasons(ctx)].filter((r) => r.severity === 'critical');
}
