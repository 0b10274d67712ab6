// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * WINDOWS_VBS_INTEL (warning, per VM): QMP timeouts on a Windows 11/2022/2025 guest (ostype `win11`)
 * on an Intel host, with a machine version before 11.0+pve2.
 *
 * Such guests with Virtualization-Based Security (VBS, "Memory integrity", Credential Guard) freeze
 * or spin at 100 % CPU on some Intel CPUs for a reason that has nothing to do with disk IO.
 * qemu-server works around it from machine version 11.0+pve2 by adding the enlightened VMCS flag
 * (qemu-server 9.2.0 changelog; `get_hyperv_enlightenments` in QemuServer/CPUConfig.pm adds
 * `hv_evmcs` when the host vendor is GenuineIntel, the Windows version is 11 or later and the
 * machine is at least 11.0+pve2; Machine.pm describes `+pve2` as "Enable hv_emcs for Windows
 * 11/2022/2025 to mitigate issues with VBS"). So for these VMs the QMP timeouts do not prove that
 * the main loop was blocked by disk IO: the IO thread is not the only suspect. The rule only fires
 * with QMP timeouts (the symptom); VBS itself cannot be seen from outside the guest.
 */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { COLD_START, evidence, reason, valueOf } from './context.js';

/** qemu-server `windows_version`: `win11` is Windows 11, Server 2022 and 2025. */
function isWindows11Family(ostype: string | null): boolean {
  return ostype === 'win11';
}

/** `11.0+pve2` -> true when at least 11.0+pve2; null when the text is not a machine version. */
export function machineHasEvmcsWorkaround(version: string): boolean | null {
  const m = /^(\d+)\.(\d+)(?:\+pve(\d+))?/.exec(version);
  if (!m) return null;
  const [major, minor, pve] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return major !== 11 ? major > 11 : minor !== 0 ? minor > 0 : pve >= 2;
}

/** `GenuineIntel`, or a model name that says Intel. */
function intelHost(vendor: string | undefined): boolean | null {
  if (vendor === undefined) return null;
  return /GenuineIntel|Intel/i.test(vendor);
}

export function windowsVbsReasons(ctx: RiskContext): RiskReason[] {
  if (!isWindows11Family(ctx.vm.ostype)) return [];
  const qmp = valueOf(ctx.evidence.qmpTimeouts);
  if (!qmp || qmp.count === 0) return [];
  const machine = ctx.vm.machine.version;
  if (machineHasEvmcsWorkaround(machine) !== false) return [];
  const cpu = valueOf(ctx.evidence.nodeCpu);
  const intel = intelHost(cpu?.vendor);
  if (intel === false) return [];
  const host = intel ? 'an Intel host' : 'a host whose CPU vendor could not be read (this applies if it is Intel)';
  return [
    reason({
      code: 'WINDOWS_VBS_INTEL',
      severity: 'warning',
      message:
        `Windows 11/2022/2025 on ${host} with machine ${machine}: with VBS (Memory integrity, Credential Guard) such guests freeze or spin on some Intel CPUs for a reason unrelated to disk IO, ` +
        'so the QMP timeouts do not prove a disk-IO stall: the IO thread is not the only suspect.',
      evidence: [
        evidence('config', 'ostype', 'win11'),
        evidence('effective', 'machine', machine),
        evidence(cpu?.vendor ? 'effective' : 'missing', 'host CPU vendor', cpu?.vendor ?? 'unknown'),
        evidence('metric', 'qmp timeouts', qmp.count),
      ],
      fix:
        'If VBS is on in the guest: update qemu-server to 9.2.0 or later and pve-qemu-kvm to 11.0, then cold start the VM on machine 11.0+pve2 or later ' +
        '(unpinned VMs get it at the next start; a pinned machine must be raised), which adds the hv-evmcs enlightenment. Move the disks to IO threads as well if they are in the main loop.',
      steps: [
        { action: 'update-package', package: 'qemu-server', version: '9.2.0' },
        { action: 'update-package', package: 'pve-qemu-kvm', version: '11.0' },
        { action: 'raise-machine', version: '11.0+pve2' },
        COLD_START,
      ],
    }),
  ];
}
