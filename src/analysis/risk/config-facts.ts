// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Risk facts that come from the config text but are not part of the disk report: throttle limits
 * per disk, RAM snapshots and the QEMU version. Available offline and online alike.
 */
import type { AnalysisEnv, VmInput } from '../types.js';
import { ALL_DRIVE_FORMAT, parseDriveKey, scanPropertyString } from '../../pve/index.js';
import { isThrottleKey } from './throttle.js';
import { isNetworkStorage } from './snapshots.js';
import type { Fact, PveQemuPackage, RamSnapshot, RiskEvidenceInput, ThrottleLimits } from './types.js';
import { unavailable } from './types.js';
import { agentEnabled, splitTags } from './guest-os.js';


/** The keys that will be in force: the current ones, or for a stopped VM the pending-applied ones. */
function configInForce(input: VmInput): Record<string, string> {
  if (input.runtime?.status !== 'stopped') return input.current;
  const merged = { ...input.current };
  for (const del of input.deletes) delete merged[del.key];
  Object.assign(merged, input.pending);
  return merged;
}

/**
 * Throttle options of one drive string (`local:vm-1-disk-0,iops_rd=500,mbps=100`). A drive string
 * has no quoting: every comma separates parts (docs/how-qemu-server-decides.md#drive-keys). Zero means "no limit" to QEMU.
 */
export function throttleLimits(driveValue: string): ThrottleLimits {
  const out: ThrottleLimits = {};
  // Every throttle key (and alias of one) is `bps*`, `mbps*` or `iops*`: a drive string that
  // names none of them (most) has no limit, without scanning its parts.
  if (!driveValue.includes('bps') && !driveValue.includes('iops')) return out;
  for (const { key, value } of scanPropertyString(driveValue, ALL_DRIVE_FORMAT, { checkValues: false }).ps.parts) {
    if (isThrottleKey(key) && Number(value) !== 0) out[key] = value;
  }
  return out;
}

function ramSnapshots(input: VmInput, env: AnalysisEnv): RamSnapshot[] {
  const out: RamSnapshot[] = [];
  for (const snap of input.snapshots ?? []) {
    const vmstate = snap['vmstate'];
    if (!vmstate) continue;
    const colon = vmstate.indexOf(':');
    const storage = colon > 0 ? vmstate.slice(0, colon) : null;
    const entry = storage ? env.storages.get(storage) : undefined;
    const shared = entry?.props['shared'] === '1';
    const s: RamSnapshot = { vmstate, storage, storageType: entry?.type ?? null, network: entry ? isNetworkStorage(entry.type, shared) : null };
    // VmInput keeps no section names (and a snapshot's `name:` key is the VM's name); PVE names
    // the state volume `vm-<vmid>-state-<snapname>`.
    const name = /vm-\d+-state-(.+?)(?:\.(?:raw|qcow2|vmdk))?$/.exec(vmstate)?.[1];
    if (name) s.name = name;
    out.push(s);
  }
  return out;
}

/**
 * The config part of a VM's risk evidence. `snapshots` undefined on the input (not read, as in
 * an online audit) makes `ramSnapshots` unavailable when the config names a current snapshot.
 */
export function riskFactsFromConfig(input: VmInput, env: AnalysisEnv): RiskEvidenceInput {
  const conf = configInForce(input);
  const throttles: Record<string, ThrottleLimits> = {};
  for (const key of Object.keys(conf)) {
    const kind = parseDriveKey(key)?.kind;
    if (kind !== 'ide' && kind !== 'sata' && kind !== 'scsi' && kind !== 'virtio') continue;
    const value = conf[key]!;
    // No throttle key in the text (most drives): no limits, nothing to scan (see throttleLimits).
    if (!value.includes('bps') && !value.includes('iops')) continue;
    const limits = throttleLimits(value);
    if (Object.keys(limits).length > 0) throttles[key] = limits;
  }
  const running = input.runtime?.status === 'running';
  const qemuVersion = running && input.runtime?.runningQemu ? input.runtime.runningQemu : env.installedQemu.join('.');
  return {
    throttles,
    ramSnapshots:
      input.snapshots !== undefined
        ? ramSnapshots(input, env)
        : input.current['parent'] === undefined
          ? [] // no current snapshot named: none to check (see evidenceNeeds for the rare exception)
          : unavailable('snapshot sections not read', 'not-collected'),
    qemuVersion,
    pveQemu: pveQemuOf(input, env),
    guestHints: { tags: splitTags(conf['tags']), agent: agentEnabled(conf['agent']) },
  };
}

/** The node's pve-qemu-kvm package, or why it is not known. */
function pveQemuOf(input: VmInput, env: AnalysisEnv): Fact<PveQemuPackage> {
  const node = input.node;
  const pkg = (node !== null ? env.pveQemuByNode?.[node] : undefined) ?? env.pveQemu;
  if (pkg) return pkg;
  const why = node !== null ? env.pveQemuUnknown?.[node] : undefined;
  if (why) return unavailable(why, /Sys\.Audit/.test(why) ? 'permission' : 'error');
  return input.runtime === undefined
    ? unavailable('pve-qemu-kvm version not given: pass --pve-qemu-version (on the node: pveversion -v | grep pve-qemu-kvm)', 'offline')
    : unavailable('pve-qemu-kvm version not read', 'not-collected');
}
