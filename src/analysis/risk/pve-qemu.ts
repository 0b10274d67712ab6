// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Rules that depend on the build of QEMU a VM runs: the node's installed pve-qemu-kvm package
 * (Debian version, `10.1.2-4`) and, for a running VM, the QEMU it was started with. Each threshold
 * is the first package that carries the fix, from the pve-qemu changelog (proxmox/pve-qemu
 * `debian/changelog`) and the patch it names:
 *
 * - 10.1.2-5 `extra/0011-block-io_uring-avoid-potentially-getting-stuck-after.patch`: io_uring could
 *   leave a request stuck for good (backups hung); QEMU 10.2 reworked io_uring and has no such bug.
 * - 10.1.2-1 `extra/0014-hw-scsi-avoid-deadlock-upon-TMF-request-cancelling-w.patch` (fix #6810):
 *   VirtIO SCSI deadlocked when a FreeBSD guest cancelled requests (a regression of QEMU 10.0's
 *   "virtio-scsi: perform TMFs in appropriate AioContexts"); pfSense/OPNsense froze on PVE 9.
 * - 10.2.1-2 `extra/0004-fdmon-io_uring-avoid-idle-event-loop-being-accounted.patch`: since QEMU
 *   10.2 an idle IO thread waits in io_uring and the kernel counts that as IO wait, so the VM's IO
 *   pressure (PSI) reads ~100 %.
 * - 9.2.0-4: live snapshots write the RAM state from a dedicated IO thread (snapshots.ts).
 */
import { compareDebianVersionText, parseDebianVersion } from '../debian-version.js';
import type { FixStep, RiskReason, VmReport } from '../types.js';
import type { RiskContext } from './context.js';
import { APPLY_HINT, COLD_START, carriesData, evidence, notChecked, reason, runState } from './context.js';
import { type FreeBsdGuest, describeFreeBsd, recogniseFreeBsd } from './guest-os.js';
import type { PveQemuPackage, RiskEvidenceInput, Unavailable } from './types.js';
import { isUnavailable } from './types.js';

/** First pve-qemu-kvm with the io_uring stuck-request fix. */
export const IO_URING_FIXED = '10.1.2-5';
/** First pve-qemu-kvm with the VirtIO SCSI TMF-cancel deadlock fix (#6810). */
export const TMF_DEADLOCK_FIXED = '10.1.2-1';
/** The TMF regression came with QEMU 10.0. */
const TMF_DEADLOCK_SINCE = '10.0';
/** First pve-qemu-kvm whose idle IO threads no longer read as ~100 % IO pressure. */
export const IO_PRESSURE_FIXED = '10.2.1-2';
/** Idle IO threads wait in io_uring since QEMU 10.2. */
const IO_PRESSURE_SINCE = '10.2';
/** First pve-qemu-kvm that writes a live snapshot's RAM state from its own IO thread. */
export const SNAPSHOT_IOTHREAD_FIXED = '9.2.0-4';

/** The QEMU build a VM runs (running) or will start with (not running). */
export interface QemuBuild {
  /** Debian version to compare: the package, or `<running-qemu>` when the VM runs an older upstream. */
  version: string;
  /** False when only the upstream version is known (the VM started before the installed package). */
  exact: boolean;
  /** Why this build, for evidence: `pve-qemu-kvm 10.1.2-4 (/nodes/pve1/apt/versions)`. */
  basis: string;
  pkg: PveQemuPackage;
}

/** `10.1.2-4` -> `10.1.2`. */
function upstreamOf(version: string): string {
  return parseDebianVersion(version)?.upstream ?? version;
}

/**
 * The build of this VM, or why it is not known. A running VM whose `running-qemu` differs from the
 * installed upstream version was started before the update and runs an older build whose package
 * revision is not known; then only the upstream version is compared (`exact: false`).
 */
export function qemuBuild(ctx: RiskContext): QemuBuild | Unavailable | undefined {
  const pkg = ctx.evidence.pveQemu;
  if (isUnavailable(pkg)) return pkg;
  const p = pkg as PveQemuPackage;
  const basis = `pve-qemu-kvm ${p.version} (${p.source})`;
  const running = ctx.vm.status === 'running' ? ctx.evidence.qemuVersion : undefined;
  if (running && parseDebianVersion(running) && upstreamOf(p.version) !== running) {
    return { version: running, exact: false, basis: `runs QEMU ${running}, started before ${basis} was installed`, pkg: p };
  }
  return { version: p.version, exact: true, basis, pkg: p };
}

/**
 * Whether the build is older than `fixed`. With only the upstream version known, a build of the
 * same upstream version counts as older (its revision may be any): the answer is then "may".
 */
export function buildBefore(build: QemuBuild, fixed: string): 'yes' | 'may' | 'no' {
  if (build.exact) return compareDebianVersionText(build.version, fixed) < 0 ? 'yes' : 'no';
  const c = compareDebianVersionText(build.version, upstreamOf(fixed));
  return c < 0 ? 'yes' : c === 0 ? 'may' : 'no';
}

/** True when the build's upstream QEMU is at least `since` (`10.2`). */
function buildSince(build: QemuBuild, since: string): boolean {
  return compareDebianVersionText(upstreamOf(build.version), since) >= 0;
}

function buildEvidence(build: QemuBuild) {
  return evidence('effective', 'QEMU build', build.basis);
}

/** How to get the fixed build into the VM. */
/** updateFix as data (without its cold start, which the caller adds). */
function updateStep(fixed: string): FixStep {
  return { action: 'update-package', package: 'pve-qemu-kvm', version: fixed };
}

function updateFix(fixed: string): string {
  return `update pve-qemu-kvm to ${fixed} or later on the node (apt full-upgrade), then cold start the VM (stop and start, or reboot from PVE) so it runs the new build`;
}

function notCheckedBuild(ctx: RiskContext, what: string, fact: Unavailable | undefined): RiskReason {
  const r = notChecked(what, `/nodes/${ctx.vm.node ?? '{node}'}/apt/versions`, fact);
  if (fact?.cause === 'offline') {
    r.fix = "Give the node's version with --pve-qemu-version (pveversion -v | grep pve-qemu-kvm on the node), or audit online (--pve).";
  }
  return r;
}

/**
 * PVE_QEMU_IO_URING_HANG (warning, per disk): a data disk that runs io_uring on a build before
 * 10.1.2-5, where a request could stay stuck for good (hung backups, a hung guest disk).
 */
export function ioUringHangReasons(ctx: RiskContext): RiskReason[] {
  const disks = ctx.disks.filter((d) => carriesData(d.disk, d.facts) && d.facts.aio.effective === 'io_uring');
  if (disks.length === 0) return [];
  const build = qemuBuild(ctx);
  if (build === undefined || 'unavailable' in build) {
    return [notCheckedBuild(ctx, `the pve-qemu-kvm build for io_uring on ${disks.map((d) => d.disk.key).join(', ')}`, build)];
  }
  const before = buildBefore(build, IO_URING_FIXED);
  if (before === 'no') return [];
  return disks.map((d) =>
    reason({
      code: 'PVE_QEMU_IO_URING_HANG',
      severity: 'warning',
      disk: d.disk.key,
      message: `${d.disk.key} runs aio=io_uring on a QEMU build ${before === 'may' ? 'that may be ' : ''}older than pve-qemu-kvm ${IO_URING_FIXED}, whose io_uring could leave a request stuck for good (backups hung).`,
      evidence: [
        evidence('config', `${d.disk.key}.aio`, d.facts.aio.configured ?? 'unset (io_uring is the default)'),
        evidence('effective', `${d.disk.key}.aio`, 'io_uring'),
        buildEvidence(build),
      ],
      fix: `${updateFix(IO_URING_FIXED)}; or set aio=threads on ${d.disk.key}, ${APPLY_HINT}.`,
      steps: [updateStep(IO_URING_FIXED), COLD_START, { action: 'set-aio', disks: [d.disk.key], value: 'threads' }],
    }),
  );
}

/** Disks of the VM on VirtIO SCSI (the controller the TMF deadlock is in). */
function virtioScsiDisks(ctx: RiskContext): string[] {
  return ctx.disks.filter((d) => d.disk.bus === 'scsi' && d.facts.controller === 'virtio-scsi-pci').map((d) => d.disk.key);
}

/**
 * Whether the TMF-cancel deadlock applies to a build: QEMU 10.0 up to pve-qemu-kvm 10.1.2-1.
 * @returns 'yes' | 'may' | 'no'
 */
export function tmfDeadlockBuild(build: QemuBuild): 'yes' | 'may' | 'no' {
  if (!buildSince(build, TMF_DEADLOCK_SINCE)) return 'no';
  return buildBefore(build, TMF_DEADLOCK_FIXED);
}

/**
 * PVE_QEMU_TMF_DEADLOCK (warning, per VM): a FreeBSD guest (pfSense, OPNsense, ...) with disks on
 * VirtIO SCSI on a build from QEMU 10.0 before pve-qemu-kvm 10.1.2-1: VirtIO SCSI deadlocks when
 * the guest cancels timed-out requests, and the VM freezes. See guest-os.ts for the recognition.
 */
export function tmfDeadlockReasons(ctx: RiskContext): RiskReason[] {
  const keys = virtioScsiDisks(ctx);
  if (keys.length === 0) return [];
  const guest = recogniseFreeBsd(ctx.vm, ctx.evidence.guestHints, ctx.evidence.guestOs);
  if (!guest) return [];
  const build = qemuBuild(ctx);
  if (build === undefined || 'unavailable' in build) {
    return [notCheckedBuild(ctx, `the pve-qemu-kvm build for the VirtIO SCSI deadlock of FreeBSD guests (${keys.join(', ')})`, build)];
  }
  const applies = tmfDeadlockBuild(build);
  if (applies === 'no') return [];
  return [
    reason({
      code: 'PVE_QEMU_TMF_DEADLOCK',
      severity: 'warning',
      message:
        `This is ${describeFreeBsd(guest)} with ${keys.join(', ')} on VirtIO SCSI, on a QEMU build ${applies === 'may' ? 'that may be ' : ''}older than pve-qemu-kvm ${TMF_DEADLOCK_FIXED}: ` +
        'VirtIO SCSI deadlocks when FreeBSD cancels timed-out requests (Proxmox bug #6810), and the VM freezes.',
      evidence: [
        evidence(guest.basis === 'guest agent' ? 'effective' : 'config', 'guest OS', `FreeBSD (${guest.basis}: ${guest.detail})`),
        evidence('effective', 'controller', `virtio-scsi-pci (${keys.join(', ')})`),
        buildEvidence(build),
      ],
      fix: `${updateFix(TMF_DEADLOCK_FIXED)}.${guest.basis === 'heuristic' ? ' If this guest is not FreeBSD, ignore this reason (it rests on the name or tags; enable the guest agent to know).' : ''}`,
      steps: [updateStep(TMF_DEADLOCK_FIXED), COLD_START],
    }),
  ];
}

/**
 * IO_PRESSURE_MISREAD (info, per VM): a VM with an IO thread on a QEMU 10.2 build before
 * pve-qemu-kvm 10.2.1-2. Its idle IO threads make the kernel report ~100 % IO pressure (PSI), which
 * PVE's VM summary graphs show: that is not a freeze. The tool never reads a VM's `pressureio*` as a
 * freeze signal; this reason only tells the admin not to either. No version, no reason (it is a
 * note about a graph, not a risk).
 */
export function ioPressureReasons(ctx: RiskContext): RiskReason[] {
  const keys = ctx.disks.filter((d) => d.facts.iothread.effective).map((d) => d.disk.key);
  if (keys.length === 0 || ctx.state === 'stopped') return [];
  const build = qemuBuild(ctx);
  if (build === undefined || 'unavailable' in build || !buildSince(build, IO_PRESSURE_SINCE)) return [];
  if (buildBefore(build, IO_PRESSURE_FIXED) === 'no') return [];
  return [
    reason({
      code: 'IO_PRESSURE_MISREAD',
      severity: 'info',
      message: `PVE's IO pressure of this VM reads close to 100 % while its IO threads (${keys.join(', ')}) are idle: pve-qemu-kvm before ${IO_PRESSURE_FIXED} counts their idle wait as IO wait. It is not a freeze signal.`,
      evidence: [evidence('effective', 'IO threads', keys.join(', ')), buildEvidence(build)],
      fix: `Read stalls from QMP timeouts and the guest's own logs, not from pressureio; ${updateFix(IO_PRESSURE_FIXED)}.`,
      steps: [{ action: 'ignore-io-pressure' }, updateStep(IO_PRESSURE_FIXED), COLD_START],
    }),
  ];
}

/**
 * Whether RAM snapshots of this VM are written from the main loop (builds before 9.2.0-4), for
 * snapshots.ts. Without the package version, a QEMU older than 9.2 says yes, 9.2.0 says "may"
 * (its package revision is unknown), newer says no.
 */
export function snapshotInMainLoop(ctx: RiskContext): { answer: 'yes' | 'may' | 'no'; basis: string | null } {
  const build = qemuBuild(ctx);
  if (build !== undefined && !('unavailable' in build)) return { answer: buildBefore(build, SNAPSHOT_IOTHREAD_FIXED), basis: build.basis };
  const qemu = ctx.evidence.qemuVersion;
  if (!qemu || !parseDebianVersion(qemu)) return { answer: 'no', basis: null };
  const c = compareDebianVersionText(qemu, upstreamOf(SNAPSHOT_IOTHREAD_FIXED));
  return { answer: c < 0 ? 'yes' : c === 0 ? 'may' : 'no', basis: `QEMU ${qemu} (pve-qemu-kvm revision unknown)` };
}

/**
 * For the planner: would moving this VM's disks onto VirtIO SCSI meet the TMF-cancel deadlock?
 * Null when the guest is not recognised as FreeBSD or the build is fixed; else the guest, and the
 * build or why it is unknown (unknown counts as affected: the gate is overridable).
 */
export function tmfDeadlockOnMove(
  vm: VmReport,
  ev: RiskEvidenceInput,
): { guest: FreeBsdGuest; build: QemuBuild | null; why: string; applies: 'yes' | 'may' } | null {
  const guest = recogniseFreeBsd(vm, ev.guestHints, ev.guestOs);
  if (!guest) return null;
  const build = qemuBuild({ vm, evidence: ev, state: runState(vm), disks: [] });
  if (build === undefined || 'unavailable' in build) {
    return { guest, build: null, why: `its pve-qemu-kvm version is unknown (${build?.unavailable ?? 'not read'})`, applies: 'may' };
  }
  const applies = tmfDeadlockBuild(build);
  return applies === 'no' ? null : { guest, build, why: `it runs ${build.basis}`, applies };
}
