// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane audit`: the effective disk status of every VM, offline from a copy of /etc/pve (or
 * single config files), online from the PVE API. `audit()` returns the report; `run()` prints it.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_INSTALLED_QEMU, auditAssumptions, buildAuditReport, vmInputFromFile } from '../../analysis/audit.js';
import type { AnalysisEnv, AuditReport, VmInput, VmReport } from '../../analysis/types.js';
import { parseVersion } from '../../analysis/version.js';
import { type ConfigRead, readConfFiles, readConfigDir, readStorageCfg } from '../../node/etc-pve.js';
import { readRiskFiles } from '../../node/risk-files.js';
import { volumeOwner } from '../../pve/index.js';
import type { ConfigIssue } from '../../pve/types.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, outputWidth, useColor } from '../io.js';
import { formatCsv } from '../output/csv.js';
import { formatExplain } from '../output/explain.js';
import { formatJson, formatVmJson } from '../output/json.js';
import { formatIssue } from '../output/issues.js';
import { formatTable } from '../output/table.js';

export type AuditFormat = 'table' | 'json' | 'csv';

/** Typed options of `audit` (already validated; see `normalizeAuditOptions` for the raw CLI form). */
export interface AuditOptions {
  /** A copy of /etc/pve. */
  configDir?: string;
  /** Single `<vmid>.conf` files. */
  conf?: string[];
  /** storage.cfg for `conf` (or to override the one in `configDir`). */
  storageCfg?: string;
  /** Installed QEMU `X.Y[.Z]`; default 11.0, and the report says it was assumed. */
  qemuVersion?: string;
  vmids?: number[];
  node?: string;
  /** Online mode: PVE URL (`https://host:8006`). */
  pve?: string;
  tokenFile?: string;
  /** API token `USER@REALM!ID=SECRET` (from env PVE_TOKEN; prefer --token-file). */
  token?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  /** Online: also read the risk evidence (syslog, rrddata, node CPU, backup jobs, snapshots). The CLI sets it unless --no-evidence. */
  riskEvidence?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Raw commander options of `audit` (strings as typed; nothing auto-cast). */
export interface RawAuditOptions {
  configDir?: string;
  conf?: string[];
  storageCfg?: string;
  qemuVersion?: string;
  vmid?: string;
  node?: string;
  format?: string;
  explain?: string;
  pve?: string;
  tokenFile?: string;
  fingerprint?: string;
  concurrency?: string;
  insecure?: boolean;
  /** False with --no-evidence. */
  evidence?: boolean;
}

/** `100,101 102` → [100, 101, 102]; anything else is a usage error naming `option`. */
export function parseVmidList(text: string, option = '--vmid'): number[] {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new UsageError(`${option} needs VMIDs such as 100,101 (got '${text}')`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 100 || Number(p) > 999_999_999) {
      throw new UsageError(`${option}: '${p}' is not a VMID (a whole number from 100 to 999999999)`);
    }
    return Number(p);
  });
}

function parseQemuVersion(text: string | undefined): AnalysisEnv['installedQemu'] | null {
  if (text === undefined) return null;
  const v = parseVersion(text);
  if (!v) throw new UsageError(`--qemu-version: '${text}' is not a version such as 11.0 or 9.2.0 (on the node: pveversion -v | grep pve-qemu-kvm)`);
  return v;
}

/** VMID from the volume names (`vm-8006-disk-0` → 8006) of a file not named `<vmid>.conf`. */
function inferVmid(values: Record<string, string>): number | null {
  const counts = new Map<number, number>();
  for (const [key, value] of Object.entries(values)) {
    if (!/^(?:ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/.test(key)) continue;
    const volid = value.split(',')[0]?.replace(/^(?:file|volume)=/, '') ?? '';
    const owner = volumeOwner(volid);
    if (owner !== null) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  let best: number | null = null;
  for (const [id, n] of counts) if (best === null || n > (counts.get(best) as number)) best = id;
  return best;
}

function toInputs(read: ConfigRead): VmInput[] {
  return read.vms.map(({ file, node }) => {
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
  });
}

/**
 * Why no storage type is known offline: no storage.cfg given with `--conf`, or the one named (or
 * the tree's) could not be read. Null when a storage.cfg was read: a storage missing from it then
 * really does not exist.
 */
function storageTypesUnknown(opts: AuditOptions, read: ConfigRead): string | null {
  if (opts.conf !== undefined && opts.conf.length > 0 && opts.storageCfg === undefined) return 'no storage.cfg given: pass --storage-cfg';
  const failed = read.errors.find((e) => e.message.startsWith(STORAGE_CFG_UNREADABLE));
  if (!failed) return null;
  // `cannot read storage.cfg, …: <why>; <what to do>`: the cells get the short why.
  const why = failed.message.slice(failed.message.indexOf(': ') + 2).split('; ')[0];
  return `cannot read ${failed.source ?? 'storage.cfg'}: ${why}`;
}

/** Start of the error readStorageCfg gives for a storage.cfg it cannot read. */
const STORAGE_CFG_UNREADABLE = 'cannot read storage.cfg';

/** `100, 101, 102, … (40 more)`: a readable list of what is there. */
function listSome(items: Array<string | number>, max = 20): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, … (${items.length - max} more)` : shown || 'none';
}

/**
 * Errors for `--node`/`--vmid` values that select nothing offline, each saying what is there (the
 * nodes of the tree, the VMIDs, or the node a VM is really on), so a typo is not "nothing audited".
 */
async function unmatchedFilters(opts: AuditOptions, treeDir: string | undefined, inputs: VmInput[], read: ConfigRead): Promise<ConfigIssue[]> {
  if (opts.vmids === undefined && (opts.node === undefined || treeDir === undefined)) return [];
  // The filtered read only holds what matched: read everything once to say what is there.
  const all = treeDir !== undefined ? toInputs(await readConfigDir(treeDir)) : toInputs(read);
  const where = treeDir ?? 'the --conf files';
  const out: ConfigIssue[] = [];
  if (treeDir !== undefined && opts.node !== undefined && !all.some((i) => i.node === opts.node)) {
    const nodes = [...new Set(all.map((i) => i.node).filter((n): n is string => n !== null))].sort();
    const message =
      nodes.length === 0
        ? `--node ${opts.node}: ${treeDir} does not say which node its VMs are on (no nodes/<node>/qemu-server/, .vmlist or ../hostname): leave --node out, or copy the configs to nodes/${opts.node}/qemu-server/`
        : `--node ${opts.node}: no such node in ${treeDir} (nodes: ${listSome(nodes)}): check the spelling, or leave --node out`;
    out.push({ source: treeDir, severity: 'error', message });
    return out;
  }
  const found = new Set(inputs.map((i) => i.vmid));
  for (const vmid of (opts.vmids ?? []).filter((id) => !found.has(id))) {
    const elsewhere = [...new Set(all.filter((i) => i.vmid === vmid).map((i) => i.node ?? '?'))];
    const message =
      elsewhere.length > 0 && opts.node !== undefined
        ? `VM ${vmid} not found on node ${opts.node}: it is on ${elsewhere.join(', ')}`
        : `VM ${vmid} not found in ${where} (VMs there: ${listSome([...new Set(all.map((i) => i.vmid))].sort((a, b) => a - b))})`;
    out.push({ ...(treeDir !== undefined ? { source: treeDir } : {}), severity: 'error', message });
  }
  return out;
}

/** Runs the audit and returns the report (no output). */
export async function audit(opts: AuditOptions): Promise<AuditReport> {
  const given = parseQemuVersion(opts.qemuVersion);

  if (opts.pve !== undefined) {
    if (opts.configDir !== undefined || opts.conf !== undefined) {
      throw new UsageError('--pve cannot be combined with --config-dir or --conf: choose the online or the offline audit');
    }
    // Loaded only for --pve: the API client stack (axios, TLS) stays out of offline runs.
    const { collectOnline } = await import('./audit-online.js');
    // Each VM is analysed as soon as its answer is in, while the other requests are still on the
    // wire (the analysis then costs no wall time); --qemu-version changes the env: analyse at the end.
    const early: VmReport[] = [];
    // Without evidence the risk says why: the user skipped it.
    const skipped = opts.riskEvidence === false ? { skipped: 'skipped: --no-evidence' } : {};
    const onInput = (input: VmInput, env: AnalysisEnv): void => void early.push(...buildAuditReport([input], env, [], skipped).vms);
    const online = await collectOnline({ ...opts, pve: opts.pve, ...(given ? {} : { onInput }) });
    // --qemu-version overrides what was read from every node.
    const { installedQemuByNode: _read, ...rest } = online.env;
    const env = given ? { ...rest, installedQemu: given, installedQemuAssumed: false } : online.env;
    // Warnings (partial facts, a missing privilege) do not stop the audit: they go to report.warnings.
    const errors = online.errors.filter((e) => e.severity === 'error');
    const report: AuditReport = given
      ? buildAuditReport(online.inputs, env, errors, skipped)
      : {
          vms: early.sort((a, b) => a.vmid - b.vmid || (a.node ?? '').localeCompare(b.node ?? '')),
          assumptions: auditAssumptions(online.inputs, env),
          errors,
        };
    const warnings = online.errors.filter((e) => e.severity !== 'error');
    if (warnings.length > 0) report.warnings = [...(report.warnings ?? []), ...warnings];
    if (opts.riskEvidence && online.client) {
      const { addOnlineRiskEvidence } = await import('./audit-risk.js');
      await addOnlineRiskEvidence(report, online.inputs, env, online.client);
    }
    return report;
  }

  let read: ConfigRead;
  let treeDir: string | undefined;
  const vmids = opts.vmids ? new Set(opts.vmids) : undefined;
  if (opts.conf !== undefined && opts.conf.length > 0) {
    if (opts.configDir !== undefined) throw new UsageError('give either --config-dir or --conf, not both');
    read = await readConfFiles(opts.conf, opts.storageCfg, opts.node ?? null);
    if (opts.storageCfg === undefined) {
      read.storageIssues.push({
        severity: 'warning',
        message: 'no --storage-cfg given: every storage type is unknown, so the aio mode and O_DIRECT that depend on it are reported as unknown',
      });
    }
  } else {
    let dir = opts.configDir;
    if (dir === undefined) {
      if (!existsSync('/etc/pve/storage.cfg')) {
        throw new UsageError('nothing to audit: give --config-dir DIR (a copy of /etc/pve), --conf FILE... --storage-cfg FILE, or --pve URL');
      }
      dir = '/etc/pve';
    }
    treeDir = dir;
    read = await readConfigDir(dir, { node: opts.node, vmids });
    if (opts.storageCfg !== undefined) {
      const override = await readStorageCfg(opts.storageCfg);
      read.storages = override.storages;
      read.storageIssues = override.issues;
      read.errors = read.errors.filter((e) => !e.message.startsWith(STORAGE_CFG_UNREADABLE));
      if (override.error) read.errors.push(override.error);
    }
  }

  let inputs = toInputs(read);
  if (vmids) inputs = inputs.filter((i) => vmids.has(i.vmid));
  if (opts.node !== undefined && opts.conf === undefined) inputs = inputs.filter((i) => i.node === opts.node);
  read.errors.push(...(await unmatchedFilters(opts, treeDir, inputs, read)));

  const env: AnalysisEnv = {
    storages: read.storages,
    installedQemu: given ?? DEFAULT_INSTALLED_QEMU,
    installedQemuAssumed: given === null,
  };
  const typesUnknown = storageTypesUnknown(opts, read);
  if (typesUnknown !== null) env.storageTypesUnknown = typesUnknown;
  // Backup jobs (jobs.cfg) and pools (user.cfg) beside the configs feed the risk's backup part.
  // Only beside configs that were read: a wrong --config-dir gets one error, not one per file.
  const risk = treeDir !== undefined && read.vms.length > 0 ? await readRiskFiles(treeDir) : null;
  const report = buildAuditReport(inputs, env, read.errors, risk?.sources);
  const warnings = [...read.storageIssues, ...(risk?.issues ?? [])];
  if (warnings.length > 0) report.warnings = [...(report.warnings ?? []), ...warnings];
  return report;
}

/** Validates the raw commander options. */
export function normalizeAuditOptions(raw: RawAuditOptions, env: CliIO['env']): AuditOptions & { format: AuditFormat; explain?: number } {
  const format = (raw.format ?? 'table') as AuditFormat;
  if (!['table', 'json', 'csv'].includes(format)) throw new UsageError(`--format must be table, json or csv (got '${raw.format}')`);
  let explain: number | undefined;
  if (raw.explain !== undefined) {
    const ids = parseVmidList(raw.explain, '--explain');
    if (ids.length !== 1) throw new UsageError('--explain takes one VMID');
    explain = ids[0];
  }
  let concurrency: number | undefined;
  if (raw.concurrency !== undefined) {
    if (!/^\d+$/.test(raw.concurrency) || Number(raw.concurrency) < 1) {
      throw new UsageError(`--concurrency must be a whole number >= 1 (got '${raw.concurrency}')`);
    }
    concurrency = Number(raw.concurrency);
  }
  const offline = raw.configDir !== undefined || raw.conf !== undefined;
  const pve = raw.pve ?? (offline ? undefined : env.PVE_URL || undefined);
  return {
    configDir: raw.configDir,
    conf: raw.conf,
    storageCfg: raw.storageCfg,
    qemuVersion: raw.qemuVersion,
    vmids: raw.vmid === undefined ? undefined : parseVmidList(raw.vmid),
    node: raw.node,
    pve,
    tokenFile: raw.tokenFile,
    token: pve ? env.PVE_TOKEN || undefined : undefined,
    fingerprint: raw.fingerprint ?? (pve ? env.PVE_FINGERPRINT : undefined),
    concurrency,
    insecure: raw.insecure,
    riskEvidence: raw.evidence !== false,
    format,
    explain,
  };
}

/** Prints the report the way the options ask; returns the exit code. */
export function present(report: AuditReport, opts: { format: AuditFormat; explain?: number; vmids?: number[]; node?: string }, io: CliIO): number {
  const issues: ConfigIssue[] = [...report.errors, ...(report.warnings ?? []), ...report.vms.flatMap((vm) => vm.issues)];
  for (const issue of issues) io.stderr(`pve-dataplane: ${formatIssue(issue)}\n`);

  if (report.vms.length === 0) {
    io.stderr('pve-dataplane: nothing could be audited (no VM config was read and matched the filters)\n');
    return 1;
  }
  if (opts.explain !== undefined) {
    const vm = report.vms.find((v) => v.vmid === opts.explain);
    if (!vm) {
      const n = report.vms.length;
      const filtered = opts.vmids !== undefined || opts.node !== undefined ? '; --vmid or --node may have left it out' : '';
      throw new ExitError(1, `VM ${opts.explain} is not among the audited configs (${n} VM${n === 1 ? '' : 's'} audited: ${listSome(report.vms.map((v) => v.vmid))})${filtered}`);
    }
    if (opts.format === 'json') io.stdout(formatVmJson(vm));
    else if (opts.format === 'csv') io.stdout(formatCsv({ ...report, vms: [vm] }));
    else io.stdout(formatExplain(vm, report.assumptions, { color: useColor(io), width: outputWidth(io) }));
    return 0;
  }
  if (opts.format === 'json') io.stdout(formatJson(report));
  else if (opts.format === 'csv') io.stdout(formatCsv(report));
  else io.stdout(formatTable(report, { color: useColor(io), width: outputWidth(io) }));
  return 0;
}

/** Entry point used by the command table. */
export async function run(raw: RawAuditOptions, io: CliIO): Promise<number> {
  const opts = normalizeAuditOptions(raw, io.env);
  const report = await audit(opts);
  return present(report, opts, io);
}
