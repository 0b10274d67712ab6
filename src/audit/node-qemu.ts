// SPDX-License-Identifier: AGPL-3.0-or-later
/** The installed QEMU (pve-qemu-kvm) of a node, as the analysis needs it: a version, and how it was learnt. */
import type { Version } from '../analysis/types.js';
import { parseVersion } from '../analysis/version.js';
import type { PveClient, RequestOptions } from '../api/client.js';
import { type MachineCapability, fetchNodeAptVersions, fetchNodeMachines } from '../api/endpoints/nodes.js';
import { PveConnectionError, PvePermissionError } from '../api/errors.js';

/** The installed QEMU of a node and how it was learnt. */
export interface NodeQemuVersion {
  version: Version;
  /** `apt`: pve-qemu-kvm from apt/versions (exact); `machines`: newest machine type (major.minor only). */
  source: 'apt' | 'machines';
  /** The text it was read from (`10.0.2-4`, `pc-i440fx-10.0+pve1`). */
  text: string;
  /** Set when the exact source could not be read: why, naming the missing privilege. */
  fallbackReason?: string;
}

/**
 * Installed QEMU (pve-qemu-kvm) of `node`. Reads `apt/versions` (exact, but needs Sys.Audit on
 * /nodes/{node}); on 403 falls back to the newest machine version of
 * `capabilities/qemu/machines`, which any user may read and which equals the binary's major.minor
 * (the only part that decides an unpinned VM's machine version); the same after any other
 * failure of apt/versions. Only an abort, or a failure of the fallback itself, propagates.
 */
export async function fetchNodeQemuVersion(
  client: PveClient,
  node: string,
  options?: RequestOptions,
): Promise<NodeQemuVersion> {
  let fallbackReason: string;
  try {
    const pkgs = await fetchNodeAptVersions(client, node, options);
    const pkg = pkgs.find((p) => p.Package === 'pve-qemu-kvm');
    // For apt/versions both Version and OldVersion are the installed version (OldVersion is the
    // more explicit one); a package that is not installed has neither meaningfully.
    const text = pkg?.OldVersion ?? pkg?.Version;
    const installed = pkg !== undefined && (pkg.CurrentState === undefined || pkg.CurrentState === 'Installed');
    const version = installed && text ? parseVersion(text.replace(/-.*$/, '')) : null;
    if (version) return { version, source: 'apt', text: text! };
    fallbackReason = !pkg
      ? `/nodes/${node}/apt/versions lists no pve-qemu-kvm package`
      : !installed
        ? `/nodes/${node}/apt/versions reports pve-qemu-kvm as ${String(pkg.CurrentState)}`
        : `pve-qemu-kvm version ${JSON.stringify(text)} from /nodes/${node}/apt/versions is not X.Y.Z-N`;
  } catch (err) {
    if (err instanceof PveConnectionError && err.kind === 'aborted') throw err;
    fallbackReason =
      err instanceof PvePermissionError
        ? `/nodes/${node}/apt/versions needs Sys.Audit on /nodes/${node}`
        : `/nodes/${node}/apt/versions failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  const machines = await fetchNodeMachines(client, node, options);
  const newest = newestMachine(machines);
  if (!newest) {
    throw new Error(`${fallbackReason}, and /nodes/${node}/capabilities/qemu/machines lists no machine version`);
  }
  return { version: newest.version, source: 'machines', text: newest.id, fallbackReason };
}

/** Newest `X.Y` among machine types (ignoring `+pveN`), as a QEMU version `[X, Y, 0]`. */
export function newestMachine(machines: readonly MachineCapability[]): { version: Version; id: string } | null {
  let best: { version: Version; id: string } | null = null;
  for (const m of machines) {
    const v = parseVersion(m.version.replace(/\+pve\d+$/, ''));
    if (!v) continue;
    if (!best || v[0] > best.version[0] || (v[0] === best.version[0] && v[1] > best.version[1])) {
      best = { version: v, id: m.id };
    }
  }
  return best;
}
