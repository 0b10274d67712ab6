// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The offline audit: VM configs from a `ConfigReader` (a copy of /etc/pve, single files) →
 * `AuditReport`, with the backup jobs beside the configs as risk evidence. No file system here.
 */
import type { RiskSources } from '../analysis/risk/index.js';
import type { AnalysisEnv, VmInput, VmReport } from '../analysis/types.js';
import { driveVolume, isDriveKey, volumeOwner } from '../pve/index.js';
import type { ConfigIssue } from '../pve/types.js';
import { withPveQemu } from './pve-qemu-env.js';
import type { AuditOptions, AuditRun } from './options.js';
import type { ConfFile, ConfigRead, ConfigReader } from './reader.js';
import { DEFAULT_INSTALLED_QEMU, auditAssumptions } from './report.js';
import { auditVm, auditVms, compareVms } from './stream.js';
import { vmInputFromFile } from './vm-report.js';

/** VMID from the volume names (`vm-8006-disk-0` → 8006) of a file not named `<vmid>.conf`. */
function inferVmid(values: Record<string, string>): number | null {
  const counts = new Map<number, number>();
  for (const [key, value] of Object.entries(values)) {
    if (!isDriveKey(key)) continue;
    const owner = volumeOwner(driveVolume(value));
    if (owner !== null) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  let best: number | null = null;
  for (const [id, n] of counts) if (best === null || n > (counts.get(best) as number)) best = id;
  return best;
}

function toInput({ file, node }: ConfFile): VmInput {
  const input = vmInputFromFile(file, node);
  if (file.vmid === null) {
    const inferred = inferVmid(input.current);
    input.vmid = inferred ?? 0;
    input.issues.push({
      source: input.source,
      severity: 'warning',
      message:
        inferred === null
          ? 'file name is not <vmid>.conf and no volume names a VMID: reported as VM 0'
          : `file name is not <vmid>.conf: VMID ${inferred} taken from the volume names`,
    });
  }
  return input;
}

/** A VM of the read: its VMID and node, and its input, made when it is asked for. */
interface ReadVm {
  vmid: number;
  node: string | null;
  input(): VmInput;
}

/**
 * The VMs of `read`. A config whose reader deferred its parse is parsed each time its input is
 * asked for (once, by the audit); the others are made into inputs now.
 */
function readVms(read: ConfigRead): ReadVm[] {
  return read.vms.map((conf) => {
    if (conf.deferred) {
      const { vmid, parse } = conf.deferred;
      return { vmid, node: conf.node, input: () => toInput({ file: parse(), node: conf.node }) };
    }
    const input = toInput(conf);
    return { vmid: input.vmid, node: input.node, input: () => input };
  });
}

/** `100, 101, 102, … (40 more)`: a readable list of what is there. */
export function listSome(items: Array<string | number>, max = 20): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, … (${items.length - max} more)` : shown || 'none';
}

/**
 * Errors for `node`/`vmids` filters that select nothing, each saying what is there (the nodes of
 * the tree, the VMIDs, or the node a VM is really on), so a typo is not "nothing audited".
 */
async function unmatchedFilters(opts: AuditOptions, reader: ConfigReader, inputs: ReadVm[], read: ConfigRead): Promise<ConfigIssue[]> {
  const nodeMatched = opts.node === undefined || !reader.tree || inputs.length > 0;
  const found = new Set(inputs.map((i) => i.vmid));
  // Every filter matched: nothing to say, and no second read of the tree.
  if (nodeMatched && (opts.vmids ?? []).every((id) => found.has(id))) return [];
  // The filtered read only holds what matched: read everything once to say what is there.
  const all = reader.tree ? readVms(await reader.read()) : readVms(read);
  const where = reader.label;
  const out: ConfigIssue[] = [];
  if (reader.tree && opts.node !== undefined && !all.some((i) => i.node === opts.node)) {
    const nodes = [...new Set(all.map((i) => i.node).filter((n): n is string => n !== null))].sort();
    const message =
      nodes.length === 0
        ? `--node ${opts.node}: ${where} does not say which node its VMs are on (no nodes/<node>/qemu-server/, .vmlist or ../hostname): leave --node out, or copy the configs to nodes/${opts.node}/qemu-server/`
        : `--node ${opts.node}: no such node in ${where} (nodes: ${listSome(nodes)}): check the spelling, or leave --node out`;
    out.push({ source: where, severity: 'error', message });
    return out;
  }
  for (const vmid of (opts.vmids ?? []).filter((id) => !found.has(id))) {
    const elsewhere = [...new Set(all.filter((i) => i.vmid === vmid).map((i) => i.node ?? '?'))];
    const message =
      elsewhere.length > 0 && opts.node !== undefined
        ? `VM ${vmid} not found on node ${opts.node}: it is on ${elsewhere.join(', ')}`
        : `VM ${vmid} not found in ${where} (VMs there: ${listSome([...new Set(all.map((i) => i.vmid))].sort((a, b) => a - b))})`;
    out.push({ ...(reader.tree ? { source: where } : {}), severity: 'error', message });
  }
  return out;
}

/** The offline audit before its VMs are audited: everything of the report but `vms`. */
interface PreparedAudit extends Omit<AuditRun, 'vms' | 'inputs'> {
  /** The VMs to audit, not yet parsed where the reader deferred it. */
  toAudit: ReadVm[];
  sources: RiskSources;
}

async function prepareAudit(reader: ConfigReader, opts: AuditOptions): Promise<PreparedAudit> {
  const vmids = opts.vmids ? new Set(opts.vmids) : undefined;
  const read = await reader.read({
    ...(reader.tree && opts.node !== undefined ? { node: opts.node } : {}),
    ...(vmids ? { vmids } : {}),
    ...(opts.vmidRange ? { vmidRange: opts.vmidRange } : {}),
  });
  let inputs = readVms(read);
  if (vmids) inputs = inputs.filter((i) => vmids.has(i.vmid));
  if (opts.node !== undefined && reader.tree) inputs = inputs.filter((i) => i.node === opts.node);
  // A share of the tree (vmidRange) cannot tell which filters match the whole: its caller checks.
  const errors = opts.vmidRange ? [...read.errors] : [...read.errors, ...(await unmatchedFilters(opts, reader, inputs, read))];

  const env: AnalysisEnv = withPveQemu(
    { storages: read.storages, installedQemu: opts.qemuVersion ?? DEFAULT_INSTALLED_QEMU, installedQemuAssumed: opts.qemuVersion === undefined },
    opts.pveQemu,
    opts.qemuVersion !== undefined,
  );
  if (read.storageTypesUnknown !== undefined) env.storageTypesUnknown = read.storageTypesUnknown;
  // Backup jobs (jobs.cfg) and pools (user.cfg) beside the configs feed the risk's backup part.
  // Only beside configs that were read: a wrong folder gets one error, not one per file.
  const risk = reader.readRiskSources && read.vms.length > 0 ? await reader.readRiskSources() : null;
  const warnings = [...read.storageIssues, ...(risk?.issues ?? [])];
  return {
    assumptions: auditAssumptions(inputs, env),
    errors,
    ...(warnings.length > 0 ? { warnings } : {}),
    toAudit: inputs,
    env,
    sources: risk?.sources ?? {},
  };
}

/**
 * Audits the VM configs `reader` gives. Files that cannot be read are `errors`; problems that did
 * not stop the audit (storage.cfg lines, unreadable jobs.cfg) are `warnings`.
 */
export async function auditFiles(reader: ConfigReader, opts: AuditOptions = {}): Promise<AuditRun> {
  const { sources, toAudit, env, ...run } = await prepareAudit(reader, opts);
  const inputs = toAudit.map((vm) => vm.input());
  return { vms: auditVms(inputs, env, sources, opts.onVm), ...run, inputs, env };
}

/** An offline audit whose VMs are audited as they are asked for (`AuditOptions.onVm` is not called). */
export interface LazyAuditRun extends Omit<AuditRun, 'vms' | 'inputs'> {
  /** The VMs to audit (each one's input is made when it is audited). */
  inputs: ReadonlyArray<Pick<VmInput, 'vmid' | 'node' | 'runtime'>>;
  /**
   * Each VM's report, audited when it is reached, in the report's order (`auditFiles`' `vms`): a
   * writer that drops each VM once it is written holds one VM at a time, not 5,000.
   */
  vms(): Generator<VmReport>;
}

/** {@link auditFiles}, with the VMs audited one at a time as they are written. */
export async function auditFilesLazily(reader: ConfigReader, opts: AuditOptions = {}): Promise<LazyAuditRun> {
  const { sources, toAudit, env, ...run } = await prepareAudit(reader, opts);
  const ordered = [...toAudit].sort(compareVms);
  return {
    ...run,
    inputs: toAudit,
    env,
    *vms() {
      for (const vm of ordered) yield auditVm(vm.input(), env, sources);
    },
  };
}
