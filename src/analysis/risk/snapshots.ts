// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * RAM_SNAPSHOT_NETWORK_STORAGE: the VM has snapshots that saved its RAM to network storage.
 *
 * A related risk, not an IO-thread issue of the VM's disks. A snapshot with RAM writes the whole
 * VM state while the VM runs. Before pve-qemu-kvm 9.2.0-4 the state file was written from QEMU's
 * main-loop context, where a drain could deadlock and slow storage blocks the main thread; the fix
 * moved it to a dedicated IO thread and names network storage such as NFS as the case it helps
 * (pve-qemu changelog 9.2.0-4: "using a dedicated IO thread for the state file when doing a live
 * snapshot ... particularly interesting when the VM state storage is a network storage like NFS").
 * No PVE report of a freeze caused by this was found, hence `info`, or `warning` on a build before
 * 9.2.0-4 (the node's package version when known, else the QEMU version: see snapshotInMainLoop).
 */
import type { RiskReason } from '../types.js';
import type { RamSnapshot } from './types.js';
import type { RiskContext } from './context.js';
import { evidence, notChecked, reason, valueOf } from './context.js';
import { SNAPSHOT_IOTHREAD_FIXED, snapshotInMainLoop } from './pve-qemu.js';
import { isUnavailable } from './types.js';

/** Storage types that reach the node over the network. */
export const NETWORK_STORAGE_TYPES = new Set(['nfs', 'cifs', 'cephfs', 'rbd', 'iscsi', 'iscsidirect', 'zfs', 'glusterfs']);

/** True for a network storage type, or any storage marked `shared` (SAN LVM, shared dir). */
export function isNetworkStorage(type: string | null, shared: boolean): boolean {
  return shared || (type !== null && NETWORK_STORAGE_TYPES.has(type));
}

export function ramSnapshotReasons(ctx: RiskContext): RiskReason[] {
  if (isUnavailable(ctx.evidence.ramSnapshots)) {
    return [notChecked('snapshots with RAM', `/nodes/${ctx.vm.node ?? '{node}'}/qemu/${ctx.vm.vmid}/snapshot`, ctx.evidence.ramSnapshots)];
  }
  const snapshots = valueOf(ctx.evidence.ramSnapshots)!;
  // A state volume on a storage nobody can name the type of is not "not network": say so.
  const unknown = snapshots.filter((s) => s.network === null).map(unknownStorage);
  const onNetwork = snapshots.filter((s) => s.network === true);
  if (onNetwork.length === 0) return unknown;
  const inMainLoop = snapshotInMainLoop(ctx);
  const oldQemu = inMainLoop.answer !== 'no';
  const storages = [...new Set(onNetwork.map((s) => `${s.storage ?? '?'} (${s.storageType ?? 'shared'})`))].join(', ');
  return [
    ...unknown,
    reason({
      code: 'RAM_SNAPSHOT_NETWORK_STORAGE',
      severity: oldQemu ? 'warning' : 'info',
      message: `${onNetwork.length} snapshot${onNetwork.length === 1 ? '' : 's'} of this VM saved its RAM to network storage ${storages}; writing the RAM state there can stall the VM while a snapshot is taken${oldQemu ? `, and this QEMU build ${inMainLoop.answer === 'may' ? 'may still write' : 'still writes'} it from the main loop` : ''}.`,
      evidence: [
        ...onNetwork.map((s) => evidence('config', s.name ? `snapshot ${s.name} vmstate` : 'snapshot vmstate', s.vmstate)),
        ...(inMainLoop.basis ? [evidence('effective', 'QEMU build', inMainLoop.basis)] : []),
      ],
      fix: `Take snapshots without RAM, or set vmstatestorage to a fast local storage${oldQemu ? `; pve-qemu-kvm ${SNAPSHOT_IOTHREAD_FIXED} or later writes the state from its own IO thread (update, then cold start the VM)` : ''}. An IO thread on the disks does not change this.`,
      steps: [{ action: 'snapshot-without-ram' }],
    }),
  ];
}

/** NOT_CHECKED for a snapshot whose vmstate storage is not in storage.cfg (removed, or hidden from the token). */
function unknownStorage(s: RamSnapshot): RiskReason {
  const storage = s.storage ?? s.vmstate;
  const what = `whether ${s.name ? `snapshot ${s.name}` : 'a snapshot'} saved its RAM to network storage`;
  const why = `its vmstate storage '${storage}' is not in storage.cfg, or not visible to the audit`;
  const r = reason({
    code: 'NOT_CHECKED',
    severity: 'unknown',
    message: `Could not check ${what}: ${why}.`,
    evidence: [evidence('config', s.name ? `snapshot ${s.name} vmstate` : 'snapshot vmstate', s.vmstate), evidence('missing', `storage ${storage}`, 'not in storage.cfg')],
    fix: `Check that storage '${storage}' exists (Datacenter → Storage) and that the audit may read it (Datastore.Audit), then audit again.`,
    steps: [{ action: 'check-source', source: `storage '${storage}' (Datacenter → Storage)` }],
  });
  r.check = what;
  return r;
}

