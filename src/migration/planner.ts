// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The planner: what one VM needs to run `scsihw: virtio-scsi-single` with `iothread=1` and the
 * chosen aio on every scsi/virtio disk, and which gates stop or warn (docs/how-qemu-server-decides.md#api, #guest-safety).
 * Pure: the same input gives the same plan, so `apply` can re-plan a VM and compare.
 */
import { parseDrive } from '../pve/index.js';
import type { DiskReport, RiskLevel } from '../analysis/types.js';
import type { Drive } from '../pve/types.js';
import { TARGET_SCSIHW, diskBus, driveKeys, freeKey, isDataDisk, sameConfigValue } from './config-keys.js';
import { targetDriveString, toScsiString } from './drive-target.js';
import { describeFreeBsd } from '../analysis/risk/guest-os.js';
import { TMF_DEADLOCK_FIXED, tmfDeadlockOnMove } from '../analysis/risk/pve-qemu.js';
import { gate, isOverridable } from './gates.js';
import { bootDiskCandidates, bootOrder, guestFamily, isVirtioScsi, renameInBootOrder } from './guest.js';
import { vmPrivileges } from './privileges.js';
import { planStaged } from './staged.js';
import {
  PLAN_VERSION,
  type Gate,
  type KeyChange,
  type MigrationPlan,
  type PlanOptions,
  type PlanStep,
  type PlanVmInput,
  type VmPlan,
} from './types.js';

/**
 * Who the privilege gates speak of: the CLI and the shim use an API token, the PVE web UI and the
 * shim's login mode the user's own PVE login, and the same plan is shown in all of them.
 */
const WHO = 'the PVE user or API token in use';

/** Mutable state the gate checks fill in while a VM is planned. */
interface Draft {
  blocked: Gate[];
  warnings: Gate[];
  /** key -> new value (the net change of the direct path); scsihw first. */
  set: Map<string, string>;
  delete: Set<string>;
}

/** Plan one VM. See the module comment; `opts` are the same for every VM of a plan. */
export function planVm(vm: PlanVmInput, opts: PlanOptions): VmPlan {
  const { input, report } = vm;
  const cur = input.current;
  const vmid = input.vmid;
  const overrides = new Set((opts.overrides ?? []).filter(isOverridable));
  // An unknown power state counts as running: the change may need a cold start.
  const running = report.status !== 'stopped';
  const family = guestFamily(cur.ostype ?? report.ostype);
  const d: Draft = { blocked: [], warnings: [], set: new Map(), delete: new Set() };
  const diskReport = (key: string): DiskReport | undefined => report.disks.find((x) => x.key === key);

  // --- VM-level gates
  const lock = cur.lock ?? report.lock;
  if (lock) {
    d.blocked.push(
      gate('VM_LOCKED', `VM is locked (${lock})`, {
        fix: `wait until the ${lock} finishes (or clear a stale lock with 'qm unlock ${vmid}'), then plan again`,
      }),
    );
  }
  if (report.template) {
    d.blocked.push(
      gate('VM_TEMPLATE', 'VM is a template: it never runs, and clones copy its config', {
        fix: 'convert the clones; change the template by hand if new clones should start on VirtIO SCSI single',
      }),
    );
  }

  const oldHw = cur.scsihw ?? 'lsi';

  // --- disks
  const drives = new Map<string, Drive>();
  for (const key of driveKeys(cur)) drives.set(key, parseDrive(key, cur[key]!, { vmid }));
  const isBootable = (key: string): boolean => {
    const drv = drives.get(key);
    return drv !== undefined && isDataDisk(drv);
  };
  const bootDisks = new Set(bootDiskCandidates(cur, isBootable));
  const isRoot = opts.authUser === 'root@pam';
  const keysInUse = new Set([...Object.keys(cur), ...Object.keys(input.pending)]);
  const converted: { from: string; to: string; boot: boolean }[] = [];
  const notMoved: string[] = [];

  for (const [key, drive] of drives) {
    if (!isDataDisk(drive)) continue;
    const bus = diskBus(key)!;
    if (drive.issues.some((i) => i.severity === 'error')) {
      const why = drive.issues.filter((i) => i.severity === 'error').map((i) => i.message).join('; ');
      d.blocked.push(
        gate('DRIVE_UNPARSABLE', `${key}: PVE would reject this drive string (${why}); it is not rewritten`, {
          disk: key,
          fix: `fix ${key} in the VM's Hardware view, then plan again`,
        }),
      );
      continue;
    }
    if (drive.file.startsWith('/') && !isRoot) {
      const g = gate(
        'PASSTHROUGH_ROOT_ONLY',
        `${key} passes through ${drive.file}; only root@pam may rewrite it, and an API token never is root@pam`,
        { disk: key, fix: `run 'qm set ${vmid} --${key} …' as root on the node, or override to leave ${key} as is` },
      );
      if (overrides.has(g.code)) d.warnings.push({ ...g, message: `${g.message} (overridden: ${key} left as is)` });
      else d.blocked.push(g);
      continue;
    }
    if (bus === 'scsi' || bus === 'virtio') {
      const t = targetDriveString(drive, diskReport(key), opts.aio);
      d.warnings.push(...t.warnings);
      if (t.after !== cur[key]) d.set.set(key, t.after);
      continue;
    }
    const convert = (bus === 'sata' && opts.convertSata) || (bus === 'ide' && opts.convertIde);
    if (!convert) {
      notMoved.push(key);
      continue;
    }
    const boot = bootDisks.has(key);
    if (boot && !overrides.has('CONVERT_BOOT_DISK')) {
      d.warnings.push(
        gate('CONVERT_BOOT_DISK', `${key} is a boot disk and stays on ${bus}; only data disks are converted`, {
          disk: key,
          fix: 'make sure the guest boots from VirtIO SCSI, then plan with --override CONVERT_BOOT_DISK',
        }),
      );
      continue;
    }
    const to = freeKey('scsi', [...keysInUse, ...d.set.keys()]);
    if (!to) {
      d.warnings.push(gate('NO_FREE_SCSI_SLOT', `${key} stays on ${bus}: scsi0–scsi30 are all used`, { disk: key }));
      continue;
    }
    const { value, dropped } = toScsiString(drive);
    if (dropped.length > 0) {
      d.warnings.push(
        gate('CONVERT_OPTION_DROPPED', `${key} → ${to}: ${dropped.join(', ')} is not valid on scsi and is dropped`, {
          disk: key,
        }),
      );
    }
    const scsiDrive = parseDrive(to, value, { vmid });
    const t = targetDriveString(scsiDrive, diskReport(key), opts.aio);
    d.warnings.push(...t.warnings);
    d.set.set(to, t.after);
    d.delete.add(key);
    converted.push({ from: key, to, boot });
  }
  if (notMoved.length > 0) {
    d.warnings.push(
      gate(
        'IDE_SATA_NOT_MOVED',
        `${notMoved.join(', ')} stay${notMoved.length === 1 ? 's' : ''} on ${[...new Set(notMoved.map((k) => k.replace(/\d+$/, '')))].join('/')} (no IO thread possible there)`,
        { fix: 'plan with --convert-sata / --convert-ide to move data disks to VirtIO SCSI' },
      ),
    );
  }
  if (converted.length > 0) {
    const order = bootOrder(cur.boot);
    let boot = cur.boot;
    for (const c of converted) if (boot && order?.includes(c.from)) boot = renameInBootOrder(boot, c.from, c.to);
    if (boot !== undefined && boot !== cur.boot) d.set.set('boot', boot);
    if (cur.bootdisk && converted.some((c) => c.from === cur.bootdisk)) {
      d.set.set('bootdisk', converted.find((c) => c.from === cur.bootdisk)!.to);
    }
    d.warnings.push(
      gate(
        'DEVICE_RENAME',
        `bus change ${converted.map((c) => `${c.from} → ${c.to}`).join(', ')}: guest device names and order can change`,
        { fix: 'mount by UUID or /dev/disk/by-id in the guest (fstab, bootloader) before applying' },
      ),
    );
    if (running) {
      d.warnings.push(
        gate('CONVERT_NEEDS_STOP', 'a bus change must be written while the VM is stopped', {
          fix: 'apply with --reboot now (the VM is shut down, changed, and started again), or stop it first',
        }),
      );
    }
  }

  // --- controller: only where a scsiN drive hangs on it (a reboot for a controller nobody uses is waste)
  const hasScsi = Object.keys(cur).some((k) => /^scsi\d+$/.test(k)) || converted.length > 0;
  if (hasScsi && cur.scsihw !== TARGET_SCSIHW) d.set = new Map([['scsihw', TARGET_SCSIHW], ...d.set]);
  const controllerMoves = !isVirtioScsi(oldHw);
  const movingScsi = [...drives.entries()]
    .filter(([k, drv]) => k.startsWith('scsi') && isDataDisk(drv) && controllerMoves)
    .map(([k]) => k);
  const movingDisks = [...movingScsi, ...converted.map((c) => c.from)];
  const movingBoot = movingDisks.filter((k) => bootDisks.has(k));
  const movingData = movingDisks.filter((k) => !bootDisks.has(k));

  // --- guest driver gates (docs/how-qemu-server-decides.md#guest-safety)
  let staged: PlanStep[] | null = null;
  let stagedChanges: KeyChange[] | null = null;
  if (family === 'windows' && movingBoot.length > 0) {
    const from = movingBoot.map((k) => (k.startsWith('scsi') ? `${k} on ${oldHw}` : k)).join(', ');
    const g = gate(
      'WINDOWS_BOOT_CONTROLLER',
      `Windows boots from ${from}; on VirtIO SCSI it fails with INACCESSIBLE_BOOT_DEVICE unless the vioscsi driver is already bound`,
      { fix: 'install the virtio-win drivers in the guest, then use the staged path (--windows-staged)' },
    );
    if (overrides.has(g.code)) {
      d.warnings.push({ ...g, message: `${g.message} (overridden: moved in one step)` });
    } else if (opts.windowsStaged) {
      const s = planStaged({ vm, opts, drives, bootDisk: movingBoot, draft: d, running, keysInUse, converted });
      if ('blocked' in s) {
        d.blocked.push(s.blocked);
        d.warnings.push(...s.warnings);
      } else {
        staged = s.steps;
        stagedChanges = s.changes;
        d.warnings.push(...s.warnings);
      }
    } else {
      d.blocked.push(g);
    }
  }
  if (family === 'windows' && movingData.length > 0) {
    d.warnings.push(
      gate(
        'WINDOWS_DATA_DISK_DRIVER',
        `${movingData.join(', ')} move${movingData.length === 1 ? 's' : ''} to VirtIO SCSI: Windows shows ${movingData.length === 1 ? 'it' : 'them'} only once the vioscsi driver is installed`,
        { fix: 'install the virtio-win drivers in the guest before the cold start' },
      ),
    );
  }
  if (family === 'linux' && movingDisks.length > 0) {
    d.warnings.push(
      gate(
        'LINUX_INITRAMFS',
        `${movingDisks.join(', ')} move${movingDisks.length === 1 ? 's' : ''} from ${controllerMoves && movingScsi.length > 0 ? oldHw : 'sata/ide'} to VirtIO SCSI: the initramfs must contain virtio_scsi or the guest cannot find its root disk`,
        {
          fix:
            "dracut: add_drivers+=\" virtio_scsi \" in /etc/dracut.conf.d/virtio.conf and 'dracut -f'; " +
            "initramfs-tools: MODULES=most (default), or add virtio_scsi to /etc/initramfs-tools/modules and 'update-initramfs -u'",
        },
      ),
    );
  }
  if (family === 'other' && movingDisks.length > 0) {
    d.warnings.push(
      gate('GUEST_DRIVER_UNKNOWN', `ostype ${cur.ostype ?? 'other'}: ${movingDisks.join(', ')} move to VirtIO SCSI`, {
        fix: 'check that the guest has a VirtIO SCSI driver for its boot disk, or set ostype',
      }),
    );
  }

  // --- the node's QEMU build: FreeBSD guests deadlock on VirtIO SCSI before pve-qemu-kvm 10.1.2-1
  const tmf = vm.evidence && movingDisks.length > 0 ? tmfDeadlockOnMove(report, vm.evidence) : null;
  if (tmf) {
    const g = gate(
      'PVE_QEMU_TMF_DEADLOCK',
      `${describeFreeBsd(tmf.guest)}: ${movingDisks.join(', ')} would move to VirtIO SCSI on ${input.node ?? 'its node'}, and ${tmf.why}; ` +
        `before pve-qemu-kvm ${TMF_DEADLOCK_FIXED} VirtIO SCSI deadlocks when FreeBSD cancels timed-out requests (Proxmox bug #6810) and the VM freezes`,
      { fix: `update pve-qemu-kvm to ${TMF_DEADLOCK_FIXED} or later on ${input.node ?? 'the node'} (apt full-upgrade), then plan again` },
    );
    if (overrides.has(g.code)) d.warnings.push({ ...g, message: `${g.message} (overridden)` });
    else d.blocked.push(g);
  }

  // --- pending changes already there: ours (an earlier run) or someone else's
  const foreign: string[] = [];
  for (const [k, v] of Object.entries(input.pending)) {
    if (k === 'digest') continue;
    if (!sameConfigValue(k, d.set.get(k), v)) foreign.push(k);
  }
  for (const del of input.deletes) if (!d.delete.has(del.key)) foreign.push(`delete ${del.key}`);
  if (foreign.length > 0) {
    d.blocked.push(
      gate('FOREIGN_PENDING', `pending changes that are not ours: ${foreign.join(', ')}; a cold start would apply them too`, {
        fix: 'apply them (cold start) or revert them (Hardware view → Revert), then plan again',
      }),
    );
  }

  // --- net changes and steps
  const changes: KeyChange[] =
    stagedChanges ??
    [
      ...[...d.set].map(([key, after]) => ({ key, before: cur[key] ?? null, after })),
      ...[...d.delete].map((key) => ({ key, before: cur[key] ?? null, after: null })),
    ].map((c) => {
      const alreadyPending =
        c.after === null ? input.deletes.some((x) => x.key === c.key) : sameConfigValue(c.key, input.pending[c.key], c.after);
      const change: KeyChange = { ...c, step: 0 };
      if (alreadyPending) change.alreadyPending = true;
      return change;
    });
  let steps: PlanStep[];
  if (staged) {
    steps = staged;
  } else {
    steps = [];
    // A running VM keeps values already pending; a stopped one gets them re-sent so the write applies them.
    const toWrite = changes.filter((c) => !(running && c.alreadyPending));
    if (toWrite.length > 0) {
      if (converted.length > 0 && running) {
        steps.push({ n: 0, kind: 'shutdown', description: 'shut down for the bus change' });
      }
      const set: Record<string, string> = {};
      const del: string[] = [];
      for (const c of toWrite) if (c.after === null) del.push(c.key);
      else set[c.key] = c.after;
      const step: PlanStep = { n: 0, kind: 'write', description: 'one digest-guarded config write', set };
      if (del.length > 0) step.delete = del;
      steps.push(step);
    }
    if (changes.length > 0 && running) {
      steps.push({ n: 0, kind: 'cold-start', description: 'cold start (API reboot) so the new settings run' });
    }
    steps.forEach((s, i) => (s.n = i + 1));
    const writeStep = steps.find((s) => s.kind === 'write')?.n ?? 0;
    for (const c of changes) c.step = writeStep;
  }
  const coldStartNeeded = staged !== null || (running && changes.length > 0);

  // --- privileges (docs/how-qemu-server-decides.md#api); root@pam skips every check
  if (vm.permissions && !isRoot) {
    const privs = vmPrivileges(vm.permissions, vmid);
    const need = new Set<string>();
    for (const c of changes) {
      if (c.key === 'scsihw') need.add('VM.Config.HWType');
      else need.add('VM.Config.Disk');
    }
    const missing = [...need].filter((p) => !privs.has(p)).sort();
    if (missing.length > 0) {
      d.blocked.push(
        gate('MISSING_PRIVILEGE', `${WHO} lacks ${missing.join(', ')} on /vms/${vmid}`, {
          fix: `grant a role with ${missing.join(' + ')} on /vms/${vmid} (e.g. PVEVMAdmin), then plan again`,
        }),
      );
    }
    const powerNeeded = coldStartNeeded || steps.some((s) => s.kind === 'shutdown');
    if (powerNeeded && !privs.has('VM.PowerMgmt')) {
      const g = gate('POWERMGMT_MISSING', `${WHO} lacks VM.PowerMgmt on /vms/${vmid}: it cannot reboot the VM`, {
        fix: 'apply without a reboot (the change stays pending) and restart the VM from PVE yourself, or grant VM.PowerMgmt',
      });
      if (staged || converted.length > 0) d.blocked.push(g);
      else d.warnings.push(g);
    }
  }

  if (vm.ha) {
    d.warnings.push(
      gate('HA_MANAGED', `HA-managed (${vm.ha.sid}, state ${vm.ha.state}): restarts go through the HA manager`, {
        fix: 'apply waits on the HA state; keep the HA resource enabled during the apply',
      }),
    );
  }

  const blocked = d.blocked;
  const eligible = blocked.length === 0 && steps.length > 0;
  return {
    vmid,
    node: input.node ?? report.node,
    name: report.name ?? cur.name ?? null,
    status: report.status,
    ostype: cur.ostype ?? report.ostype ?? null,
    digest: input.digest,
    risk: report.risk?.level ?? null,
    ha: vm.ha ?? null,
    blocked,
    warnings: d.warnings,
    steps,
    changes,
    coldStartNeeded,
    path: changes.length === 0 && steps.length === 0 ? 'none' : staged ? 'staged' : 'direct',
    eligible,
  };
}

const RISK_RANK: Record<RiskLevel, number> = { ok: 0, info: 1, warning: 2, critical: 3, unknown: -1 };

/** True when the VM passes `--min-risk` (always, when no risk level was computed). */
export function passesMinRisk(level: RiskLevel | null | undefined, min: RiskLevel | null | undefined): boolean {
  if (!min || !level || level === 'unknown' || min === 'unknown') return true;
  return RISK_RANK[level] >= RISK_RANK[min];
}

/**
 * Plan every VM. `opts.minRisk` drops VMs whose risk level is below it (listed in `filtered`);
 * VMs are sorted by vmid so the plan file diffs cleanly.
 */
export function buildPlan(
  vms: PlanVmInput[],
  opts: PlanOptions,
  meta: { pve?: string | null; now?: Date } = {},
): MigrationPlan {
  const filtered: MigrationPlan['filtered'] = [];
  const plans: VmPlan[] = [];
  for (const vm of [...vms].sort((a, b) => a.input.vmid - b.input.vmid)) {
    const level = vm.report.risk?.level ?? null;
    if (!passesMinRisk(level, opts.minRisk)) {
      filtered.push({ vmid: vm.input.vmid, risk: level! });
      continue;
    }
    plans.push(planVm(vm, opts));
  }
  const { authUser: _authUser, ...options } = opts;
  const plan: MigrationPlan = {
    version: PLAN_VERSION,
    aio: opts.aio,
    createdAt: (meta.now ?? new Date()).toISOString(),
    options,
    pve: meta.pve ?? null,
    vms: plans,
  };
  if (filtered.length > 0) plan.filtered = filtered;
  return plan;
}

