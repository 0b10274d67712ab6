// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What every rule needs to look at: which disk facts are in force, how a controller weighs on
 * QEMU's main loop, and the reason builders (so every reason has the same shape).
 */
import { unknownReason } from '../disk-status.js';
import type { DiskFacts, DiskReport, FixStep, RiskEvidence, RiskLevel, RiskReason, VmReport } from '../types.js';
import type { RiskCode } from './codes.js';
import type { Fact, RiskEvidenceInput, Unavailable } from './types.js';
import { isUnavailable } from './types.js';

/**
 * Whether the VM runs. `unknown` (offline audit: the files do not say) is treated like running for
 * the dataplane rules, because a `[PENDING]` section in a file mostly exists *because* the VM was
 * running when it was changed (a stopped VM applies changes at once, docs/how-qemu-server-decides.md#api).
 */
export type RunState = 'running' | 'stopped' | 'unknown';

export function runState(vm: VmReport): RunState {
  if (vm.status === 'running') return 'running';
  if (vm.status === 'stopped') return 'stopped';
  return 'unknown';
}

/** One disk with the facts that matter for the risk: what runs now, or what the next start runs. */
export interface DiskInForce {
  disk: DiskReport;
  facts: DiskFacts;
  /** True when `facts` are the pending ones (stopped VM: its next start applies them). */
  fromPending: boolean;
}

/**
 * True when the disk carries guest data through the block layer (not a CD-ROM, not empty). A SCSI
 * device that is unknown (scsi-hd or scsi-generic, by storage type) carries data either way.
 */
export function carriesData(disk: DiskReport, facts: DiskFacts): boolean {
  const attached = facts.qemuDevice !== null || unknownReason(facts, 'qemuDevice') !== null;
  return disk.media === 'disk' && disk.volume !== 'none' && attached && facts.qemuDevice !== 'ide-cd' && facts.qemuDevice !== 'scsi-cd';
}

function pendingFacts(disk: DiskReport): DiskFacts | 'deleted' | null {
  if (!disk.pending) return null;
  return 'deleted' in disk.pending ? 'deleted' : disk.pending;
}

/**
 * The facts in force per disk. Running (or unknown) VM: the current facts (pending ones only take
 * effect at the next cold start). Stopped VM: the next start applies pending first, so the pending
 * facts are the ones that will run.
 */
export function disksInForce(vm: VmReport): DiskInForce[] {
  const state = runState(vm);
  const out: DiskInForce[] = [];
  for (const disk of vm.disks) {
    if (state === 'stopped') {
      const p = pendingFacts(disk);
      if (p === 'deleted') continue;
      if (p) {
        out.push({ disk, facts: p, fromPending: true });
        continue;
      }
    }
    if (disk.onlyPending) continue;
    out.push({ disk, facts: disk, fromPending: false });
  }
  return out;
}

/** The facts the next cold start runs with (pending applied); deleted disks are left out. */
export function disksAtNextStart(vm: VmReport): DiskInForce[] {
  const out: DiskInForce[] = [];
  for (const disk of vm.disks) {
    const p = pendingFacts(disk);
    if (p === 'deleted') continue;
    if (p) out.push({ disk, facts: p, fromPending: true });
    else if (!disk.onlyPending) out.push({ disk, facts: disk, fromPending: false });
  }
  return out;
}

/**
 * How a controller's IO reaches QEMU.
 * - `emulated`: LSI, MegaRAID, PVSCSI, IDE, AHCI. The guest drives the device by register accesses
 *   that trap into QEMU and are emulated while holding the big QEMU lock; completions come back
 *   through the main loop.
 * - `virtio`: virtio-scsi / virtio-blk. Requests arrive by ioeventfd; without an IO thread they are
 *   handled, and completed, in the main loop under the same lock.
 * - `unknown`: a verbatim non-PVE scsihw value (docs/how-qemu-server-decides.md#reading-the-config).
 */
export type ControllerKind = 'emulated' | 'virtio' | 'unknown';

const EMULATED = new Set(['lsi', 'lsi53c810', 'megasas', 'pvscsi', 'ide', 'ich9-ahci', 'ahci']);

export function controllerKind(controller: DiskFacts['controller']): ControllerKind {
  if (controller === null || controller === 'virtio-scsi-pci') return 'virtio';
  return EMULATED.has(controller) ? 'emulated' : 'unknown';
}

/** The controller as an admin reads it: `lsi (emulated)`, `virtio-blk`, `virtio-scsi-pci`. */
export function controllerLabel(facts: DiskFacts): string {
  if (facts.controller === null) return 'virtio-blk (no separate controller)';
  const kind = controllerKind(facts.controller);
  return kind === 'emulated' ? `${facts.controller} (emulated)` : kind === 'unknown' ? `${facts.controller} (not a PVE value)` : facts.controller;
}

/** Windows guests need the VirtIO SCSI driver (vioscsi) before the boot disk moves (docs/how-qemu-server-decides.md#guest-safety). */
export function isWindows(vm: VmReport): boolean {
  return vm.ostype !== null && /^(wxp|w2k|w2k3|w2k8|wvista|win\d+)$/.test(vm.ostype);
}

/** Applying a dataplane change needs a new QEMU process (docs/how-qemu-server-decides.md#pending). */
export const APPLY_HINT =
  'then stop and start the VM from PVE, or reboot it from PVE (a reboot inside the guest does not apply it)';

/** The step of APPLY_HINT as data. */
export const COLD_START: FixStep = { action: 'cold-start' };

/** The step of driverCaveat as data. */
export function driverStep(vm: VmReport): FixStep {
  return { action: 'guest-driver', windows: isWindows(vm) };
}

/** What the guest needs before its disks move from an emulated controller to virtio (docs/how-qemu-server-decides.md#guest-safety). */
export function driverCaveat(vm: VmReport): string {
  return isWindows(vm)
    ? ' Windows needs the VirtIO SCSI driver (vioscsi) installed before the boot disk moves.'
    : ' The guest needs the virtio_scsi driver in its initramfs before the boot disk moves.';
}

/** Everything a rule sees. */
export interface RiskContext {
  vm: VmReport;
  evidence: RiskEvidenceInput;
  state: RunState;
  /** Disk facts in force (see disksInForce). */
  disks: DiskInForce[];
  /** Made on first use: the data disks of `disks` whose IO runs in the main loop (main-loop.ts mainLoopDisks). */
  mainLoop?: DiskInForce[] | undefined;
  /** Made on first use: disksAtNextStart(vm) (see nextStartDisks). */
  atNextStart?: DiskInForce[] | undefined;
}

/** disksAtNextStart of the context's VM, made once per context (three rules ask). */
export function nextStartDisks(ctx: RiskContext): DiskInForce[] {
  return (ctx.atNextStart ??= disksAtNextStart(ctx.vm));
}

export function evidence(kind: RiskEvidence['kind'], label: string, value: string | number | boolean): RiskEvidence {
  return { kind, label, value: String(value) };
}

export interface ReasonInit {
  code: RiskCode;
  severity: RiskLevel;
  disk?: string;
  message: string;
  evidence: RiskEvidence[];
  fix: string;
  steps: FixStep[];
}

export function reason(init: ReasonInit): RiskReason {
  const r: RiskReason = { code: init.code, severity: init.severity, message: init.message, evidence: init.evidence, fix: init.fix, steps: init.steps };
  if (init.disk !== undefined) r.disk = init.disk;
  return r;
}

/** Most texts a memo keeps before it starts afresh (a fleet has a few hundred distinct ones). */
const MAX_TEXTS = 1024;

/**
 * The text `make` gives for `key`, made once per distinct key in `memo`: a rule's message or fix
 * that depends on a few facts (a disk key, a bus) repeats from VM to VM, and a text made once is
 * flat and keeps its hash for the writers (JSON, the table) instead of being joined again per VM.
 * `key` must name every input of `make`.
 */
export function textOnce(memo: Map<string, string>, key: string, make: () => string): string {
  let text = memo.get(key);
  if (text === undefined) {
    if (memo.size >= MAX_TEXTS) memo.clear();
    text = make();
    memo.set(key, text);
  }
  return text;
}

/** NOT_CHECKED messages by check and why (see checkMessage). */
const CHECK_MESSAGES = new Map<string, Map<string, string>>();
/** Bounds of CHECK_MESSAGES: checks (some name disks), whys per check (some name a node). */
const MAX_CHECKS = 512;
const MAX_WHYS = 64;

/**
 * `Could not check <what>: <why>.`, one string per distinct text: offline, every VM has the same
 * few (`offline audit (files only)` for each API fact), and a string made once is flat and keeps
 * its hash for the writers (JSON, the table's wrap memo) instead of being joined again per VM.
 */
function checkMessage(what: string, why: string): string {
  let byWhy = CHECK_MESSAGES.get(what);
  if (byWhy === undefined) {
    if (CHECK_MESSAGES.size >= MAX_CHECKS) CHECK_MESSAGES.clear();
    byWhy = new Map();
    CHECK_MESSAGES.set(what, byWhy);
  }
  let message = byWhy.get(why);
  if (message === undefined) {
    message = `Could not check ${what}: ${why}.`;
    if (byWhy.size < MAX_WHYS) byWhy.set(why, message);
  }
  return message;
}

/**
 * The NOT_CHECKED reason for a part whose fact could not be read: level `unknown` for that part.
 * @param what the check, as a noun phrase (`QMP timeouts in the node's syslog`)
 * @param source the API path or file the fact comes from (`/nodes/pve1/syslog`)
 */
export function notChecked(what: string, source: string, fact: Unavailable | undefined): RiskReason {
  const why = fact?.unavailable ?? 'not collected';
  const cause = fact?.cause ?? (fact ? undefined : 'not-collected');
  let fix: string;
  let step: FixStep;
  switch (cause) {
    case 'offline':
      fix = 'Run the audit against the PVE API (--pve) to check this.';
      step = { action: 'audit-online' };
      break;
    case 'permission':
      fix = `Give the audit token the privilege named (${why.replace(/^missing privilege /, '')}), then audit again.`;
      step = { action: 'grant-privilege', privilege: why.replace(/^missing privilege /, '') };
      break;
    case 'not-collected':
      fix = 'Audit online (--pve) without --no-evidence to check this.';
      step = { action: 'collect-evidence' };
      break;
    case 'no-data':
      fix = 'Audit again once the VM has run for a while.';
      step = { action: 'audit-later' };
      break;
    default:
      fix = `Check that ${source} answers, then audit again.`;
      step = { action: 'check-source', source };
  }
  const r = reason({
    code: 'NOT_CHECKED',
    severity: 'unknown',
    message: checkMessage(what, why),
    evidence: [evidence('missing', source, why)],
    fix,
    steps: [step],
  });
  r.check = what;
  return r;
}

/** The value of a fact, or null when unavailable. */
export function valueOf<T>(fact: Fact<T> | undefined): T | null {
  return isUnavailable(fact) ? null : (fact as T);
}

/** Bytes/s as MiB/s with one decimal. */
export function mibPerSec(bytesPerSec: number): string {
  return `${(bytesPerSec / 1048576).toFixed(1)} MiB/s`;
}
