// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Which guests are FreeBSD (pfSense, OPNsense, TrueNAS CORE, ...), for the VirtIO SCSI TMF
 * deadlock of pve-qemu-kvm < 10.1.2-1 (see pve-qemu.ts).
 *
 * PVE has no FreeBSD `ostype`: such guests run as `other` (also the default when unset), next to
 * every other non-Linux, non-Windows OS, so `other` alone says nothing. In order:
 * 1. the guest agent (`agent/get-osinfo`, read online for running VMs with the agent enabled):
 *    `id: freebsd`, or FreeBSD in the name or kernel version (FreeBSD's `uname -v` starts with it);
 *    an answer that names another OS wins over the name.
 * 2. else the VM name and tags, matched against FreeBSD and the products built on it. That is a
 *    heuristic and every message says so.
 * An explicit Linux, Windows or Solaris ostype is taken at its word.
 */
import type { VmReport } from '../types.js';
import type { Fact, GuestOsInfo } from './types.js';
import { isUnavailable } from './types.js';

/** FreeBSD and the products built on it, as they appear in VM names and tags. */
const FREEBSD_NAME = /freebsd|pfsense|opnsense|truenas[-_ ]?core|freenas|ghostbsd|hardenedbsd|xigmanas/i;

/** How a guest was recognised as FreeBSD. */
export interface FreeBsdGuest {
  /** `guest agent` is the guest's own word; `heuristic` rests on the name or tags. */
  basis: 'guest agent' | 'heuristic';
  /** What it rests on: `get-osinfo id=freebsd`, `name 'fw-pfsense'`, `tag opnsense`. */
  detail: string;
}

/** Config facts the recognition uses besides the report. */
export interface GuestHints {
  /** `tags` of the config, split (PVE separates them by `;`, `,` or spaces). */
  tags: string[];
  /** `agent` enabled in the config. */
  agent: boolean;
}

/** `agent: 1`, `agent: enabled=1,fstrim_cloned_disks=1`, `agent: 0` -> enabled? (src/pve's reader) */
export { agentEnabled } from '../../pve/index.js';

/** The tags of a config value. */
export function splitTags(value: string | undefined): string[] {
  return (value ?? '').split(/[;,\s]+/).filter((t) => t !== '');
}

/** An ostype that names the OS (Linux, Windows, Solaris): then the guest is not FreeBSD. */
function namedOstype(ostype: string | null): boolean {
  return ostype !== null && ostype !== 'other';
}

/** True when the agent may be asked (the rule could use the answer). */
export function guestOsWorthAsking(vm: Pick<VmReport, 'ostype' | 'status' | 'template'>, hints: GuestHints): boolean {
  return !namedOstype(vm.ostype) && hints.agent && vm.status === 'running' && !vm.template;
}

function agentSaysFreeBsd(info: GuestOsInfo): string | null {
  if (info.id?.toLowerCase() === 'freebsd') return 'get-osinfo id=freebsd';
  for (const [field, value] of [['name', info.name], ['pretty-name', info.prettyName], ['kernel-version', info.kernelVersion]] as const) {
    if (value && /freebsd/i.test(value)) return `get-osinfo ${field} '${value}'`;
  }
  return null;
}

/**
 * Whether the guest is FreeBSD, and how that was decided; null when nothing says so.
 * @param osinfo the agent's answer; unavailable or absent falls back to the heuristic
 */
export function recogniseFreeBsd(
  vm: Pick<VmReport, 'ostype' | 'name'>,
  hints: GuestHints | undefined,
  osinfo: Fact<GuestOsInfo> | undefined,
): FreeBsdGuest | null {
  if (namedOstype(vm.ostype)) return null;
  if (!isUnavailable(osinfo)) {
    const said = agentSaysFreeBsd(osinfo as GuestOsInfo);
    return said ? { basis: 'guest agent', detail: said } : null;
  }
  if (vm.name && FREEBSD_NAME.test(vm.name)) return { basis: 'heuristic', detail: `name '${vm.name}'` };
  const tag = hints?.tags.find((t) => FREEBSD_NAME.test(t));
  return tag ? { basis: 'heuristic', detail: `tag '${tag}'` } : null;
}

/** `FreeBSD guest (guest agent: get-osinfo id=freebsd)`, `probably a FreeBSD guest (heuristic: name 'pfsense')`. */
export function describeFreeBsd(g: FreeBsdGuest): string {
  return g.basis === 'guest agent'
    ? `a FreeBSD guest (guest agent: ${g.detail})`
    : `probably a FreeBSD guest (heuristic: ${g.detail}; ostype other does not say, and the guest agent did not answer)`;
}
