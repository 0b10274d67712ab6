// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Machine type and version resolution, as qemu-server 9.2 does it at VM start (Machine.pm
 * `get_vm_machine`, `windows_get_pinned_machine_version`; docs/how-qemu-server-decides.md#reading-the-config, docs/how-qemu-server-decides.md#machine-version, docs/how-qemu-server-decides.md "M", docs/how-qemu-server-decides.md#machine-version).
 *
 * The machine version decides the command-line dialect: >= 10.0 gets `-blockdev`, older `-drive`.
 */
import type { Version } from './types.js';
import { MACHINE_FORMAT, META_FORMAT, parsePveBoolean, propertyValue } from '../pve/index.js';
import {
  type MachineVersion,
  canRunMachine,
  formatMachineVersion,
  formatVersion,
  highestPveRevision,
  installedMachineVersion,
  machineAtLeast,
  machineRunBlocker,
  parseVersion,
} from './version.js';

export type MachineType = 'i440fx' | 'q35' | 'virt';

/** The machine a VM runs (or will run after its next cold start). */
export interface ResolvedMachine {
  /** Raw `machine` config value, or null when unset (or dropped, see `issue`). */
  configured: string | null;
  type: MachineType;
  version: MachineVersion;
  /** Machine version >= 10.0: drives are given to QEMU as `-blockdev`. */
  blockdev: boolean;
  /** Why this version, for people: `pinned (machine: pc-q35-8.1)`, `installed QEMU 11.0 (assumed)`... */
  basis: string;
  /** Set when qemu-server would refuse to start with this machine. */
  startError: string | null;
  /** Set when the `machine` value is invalid and PVE drops it on read (it then runs unpinned). */
  issue: string | null;
}

/** Config values and runtime facts the machine depends on. Raw strings as stored. */
export interface MachineInput {
  machine?: string;
  ostype?: string;
  meta?: string;
  template?: string;
  arch?: string;
  /** `running-machine` of a running VM; only for the "now" view, a cold start resolves afresh. */
  runningMachine?: string;
}

export interface MachineEnv {
  installedQemu: Version;
  installedQemuAssumed: boolean;
}

/** A parsed machine type string such as `pc-q35-4.1+pve2.pxe`. */
export interface MachineTypeString {
  type: MachineType;
  /** null for the unversioned `pc`, `q35`, `virt`. */
  version: MachineVersion | null;
  pxe: boolean;
}

// Machine.pm $machine_fmt, `type` pattern (plus the running-machine spelling, which is the same).
const MACHINE_RE =
  /^(?:(pc)|pc(?:-i440fx)?-(\d+)\.(\d+)(?:\.\d+)*(?:\+pve(\d+))?(\.pxe)?|(q35)|pc-q35-(\d+)\.(\d+)(?:\.\d+)*(?:\+pve(\d+))?(\.pxe)?|virt(?:-(\d+)\.(\d+)(?:\.\d+)*)?(?:\+pve(\d+))?)$/;

/** Parses a machine type (`pc`, `pc-i440fx-8.1`, `q35`, `pc-q35-4.1+pve2.pxe`, `virt-9.2`); null if invalid. */
export function parseMachineType(text: string): MachineTypeString | null {
  const m = MACHINE_RE.exec(text.trim());
  if (!m) return null;
  const version = (maj?: string, min?: string, pve?: string): MachineVersion | null =>
    maj === undefined ? null : { major: Number(maj), minor: Number(min), pve: pve === undefined ? 0 : Number(pve) };
  if (m[1] !== undefined) return { type: 'i440fx', version: null, pxe: false };
  if (m[2] !== undefined) return { type: 'i440fx', version: version(m[2], m[3], m[4]), pxe: m[5] !== undefined };
  if (m[6] !== undefined) return { type: 'q35', version: null, pxe: false };
  if (m[7] !== undefined) return { type: 'q35', version: version(m[7], m[8], m[9]), pxe: m[10] !== undefined };
  return { type: 'virt', version: version(m[11], m[12], m[13]), pxe: false };
}

/** The `type` of a `machine` property string (`q35,viommu=virtio` → `q35`); undefined when absent. */
export function machineTypeOf(value: string): string | undefined {
  return propertyValue(value, MACHINE_FORMAT, 'type');
}

/**
 * Windows generation of an ostype (QemuServer/Helpers.pm `windows_version`): 5 for wxp/w2k/w2k3,
 * 6 for w2k8/wvista, N for winN, 0 for everything else.
 */
export function windowsVersion(ostype: string | undefined): number {
  if (!ostype) return 0;
  if (/^(?:wxp|w2k|w2k3)$/.test(ostype)) return 5;
  if (/^(?:w2k8|wvista)$/.test(ostype)) return 6;
  const m = /^win(\d+)$/.exec(ostype);
  return m ? Number(m[1]) : 0;
}

/** `creation-qemu` of a `meta` property string (`creation-qemu=10.0.2,ctime=…`). */
function creationQemu(meta: string | undefined): Version | null {
  if (!meta) return null;
  const version = propertyValue(meta, META_FORMAT, 'creation-qemu');
  return version === undefined ? null : parseVersion(version);
}

function installedLabel(env: MachineEnv): string {
  const v = `${env.installedQemu[0]}.${env.installedQemu[1]}`;
  return env.installedQemuAssumed ? `installed QEMU ${v} (assumed)` : `installed QEMU ${v}`;
}

function resolved(
  configured: string | null,
  type: MachineType,
  version: MachineVersion,
  basis: string,
  extra: Partial<Pick<ResolvedMachine, 'startError' | 'issue'>> = {},
): ResolvedMachine {
  return {
    configured,
    type,
    version,
    blockdev: machineAtLeast(version, 10, 0),
    basis,
    startError: extra.startError ?? null,
    issue: extra.issue ?? null,
  };
}

/**
 * qemu-server's refusal of a pinned machine the node cannot run, in its words (QemuServer.pm
 * `config_to_command`; the machine type as `get_vm_machine` completes it, `+pve0` added when written
 * without; ", please upgrade node 'NAME'" left off), or null.
 */
function machineStartError(qemu: Version, v: MachineVersion, typeText: string): string | null {
  const blocker = machineRunBlocker(qemu, v);
  if (blocker === null) return null;
  const pxe = /\.pxe$/.test(typeText);
  const base = pxe ? typeText.slice(0, -4) : typeText;
  const machineType = `${base}${/\+pve\d+$/.test(base) ? '' : '+pve0'}${pxe ? '.pxe' : ''}`;
  return blocker === 'qemu'
    ? `Installed QEMU version '${formatVersion(qemu)}' is too old to run machine type '${machineType}'`
    : `Installed qemu-server (max feature level for ${v.major}.${v.minor} is pve${highestPveRevision(v.major, v.minor)}) is too old to run machine type '${machineType}'`;
}

/**
 * Resolves the machine (type, version, -blockdev or not) for one VM state.
 *
 * Order (docs/how-qemu-server-decides.md "M", docs/how-qemu-server-decides.md#machine-version): a template always runs the default i440fx at the installed
 * QEMU (machine/ostype/meta are dropped); else a running VM runs its `running-machine`; else a pinned
 * version is used (`+pve0` when written without); else an unpinned Windows VM is pinned at start to
 * 5.1, or to `meta: creation-qemu` when that is >= 9.1, falling back to the installed version when the
 * binary cannot run it; else the installed QEMU with its highest `+pveN`.
 */
export function resolveMachine(input: MachineInput, env: MachineEnv): ResolvedMachine {
  const installed = installedMachineVersion(env.installedQemu);
  const configured = input.machine !== undefined && input.machine.trim() !== '' ? input.machine : null;
  const isTemplate = input.template !== undefined && parsePveBoolean(input.template.trim()) === true;
  const defaultType: MachineType = input.arch?.trim() === 'aarch64' ? 'virt' : 'i440fx';

  if (isTemplate) {
    return resolved(configured, 'i440fx', installed, `template: default i440fx at ${installedLabel(env)}`);
  }

  if (input.runningMachine) {
    const running = parseMachineType(input.runningMachine);
    if (running?.version) {
      return resolved(configured, running.type, running.version, `running-machine ${input.runningMachine}`);
    }
  }

  let issue: string | null = null;
  let typeString: MachineTypeString | null = null;
  if (configured !== null) {
    const typeText = machineTypeOf(configured);
    typeString = typeText === undefined ? null : parseMachineType(typeText);
    if (typeText !== undefined && typeString === null) {
      issue = `machine '${configured}' is not a valid machine type; PVE drops the key and runs the default machine`;
    }
  }

  if (typeString?.version) {
    const v = typeString.version;
    const startError = machineStartError(env.installedQemu, v, (machineTypeOf(configured as string) as string).trim());
    return resolved(configured, typeString.type, v, `pinned (machine: ${configured})`, { startError, issue });
  }

  const type = typeString?.type ?? defaultType;
  const win = windowsVersion(input.ostype?.trim());
  if (win > 0) {
    const creation = creationQemu(input.meta);
    const useCreation = creation !== null && (creation[0] > 9 || (creation[0] === 9 && creation[1] >= 1));
    let pin: MachineVersion = useCreation
      ? { major: creation[0], minor: creation[1], pve: 0 }
      : { major: 5, minor: 1, pve: 0 };
    let why = useCreation
      ? `unpinned Windows (ostype ${input.ostype}): pinned at start to meta creation-qemu ${pin.major}.${pin.minor}`
      : `unpinned Windows (ostype ${input.ostype}): pinned at start to 5.1`;
    if (!canRunMachine(env.installedQemu, pin)) {
      pin = { major: installed.major, minor: installed.minor, pve: 0 };
      why += `, which the ${installedLabel(env)} cannot run: ${pin.major}.${pin.minor}`;
    }
    return resolved(configured, type, pin, why, { issue });
  }

  return resolved(configured, type, installed, `unpinned: ${installedLabel(env)}`, { issue });
}
