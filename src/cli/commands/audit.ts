// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane audit`: the effective disk status of every VM, offline from a copy of /etc/pve (or
 * single config files), online from the PVE API. `audit()` returns the report; `run()` prints it.
 */
import { existsSync } from 'node:fs';
import type { AnalysisEnv, AuditReport, VmReport } from '../../analysis/types.js';
import { parseVersion } from '../../analysis/version.js';
import { type LazyAuditRun, auditFiles, auditFilesLazily, listSome } from '../../audit/files.js';
import type { AuditOptions as ServiceOptions } from '../../audit/options.js';
import type { ConfigReader } from '../../audit/reader.js';
import { confFilesReader, etcPveReader } from '../../node/etc-pve.js';
import type { ConfigIssue } from '../../pve/types.js';
import { ExitError, UsageError } from '../errors.js';
import type { OptionOrigin } from '../options.js';
import { type CliIO, outputWidth, useColor } from '../io.js';
import { formatCsv } from '../../present/csv.js';
import { formatExplain } from '../output/explain.js';
import { JSON_VM_SEPARATOR, formatVmJson, jsonDocumentParts, jsonDocumentPieces, jsonHead, jsonPieces, jsonTail, jsonVmPieces } from '../../present/json.js';
import { formatIssue } from '../output/issues.js';
import { makeStyle } from '../output/style.js';
import { type TableBlock, formatTable, renderTable, renderTableLines, tableBlock } from '../output/table.js';
import { lighterOptimizingCompiler, smallerInlining } from '../v8-flags.js';
import { type SecondShare, type SharePrepared, startSecondShare, threadsChosen } from '../audit-share.js';
import type { ShareMessage } from '../audit-share-protocol.js';
import { auditAssumptions } from '../../audit/report.js';
import type { PveQemuOption } from '../../audit/pve-qemu-env.js';
import { parsePveQemuOption } from '../pve-qemu-option.js';

export type AuditFormat = 'table' | 'json' | 'csv';

/** Options of the audit run (`normalizeAuditOptions` makes them from the command's). */
export interface AuditOptions {
  /** A copy of /etc/pve. */
  configDir?: string;
  /** Single `<vmid>.conf` files. */
  conf?: string[];
  /** storage.cfg for `conf` (or to override the one in `configDir`). */
  storageCfg?: string;
  /** Installed QEMU `X.Y[.Z]`; default 11.0, and the report says it was assumed. */
  qemuVersion?: string;
  /** Installed pve-qemu-kvm, for every node or per node (`--pve-qemu-version`). */
  pveQemu?: PveQemuOption;
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

/**
 * Options of `audit` as commander hands them over, already typed by the option kinds of ../options.ts
 * (`--vmid`, `--explain`, `--format`, `--concurrency`; PVE_URL and PVE_FINGERPRINT through `.env()`).
 */
export interface AuditCommandOptions {
  configDir?: string;
  conf?: string[];
  storageCfg?: string;
  qemuVersion?: string;
  pveQemuVersion?: string;
  vmid?: number[];
  node?: string;
  format?: AuditFormat;
  explain?: number;
  pve?: string;
  tokenFile?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  /** False with --no-evidence. */
  evidence?: boolean;
}

function parseQemuVersion(text: string | undefined): AnalysisEnv['installedQemu'] | null {
  if (text === undefined) return null;
  const v = parseVersion(text);
  if (!v) throw new UsageError(`--qemu-version: '${text}' is not a version such as 11.0 or 9.2.0 (on the node: pveversion -v | grep pve-qemu-kvm)`);
  return v;
}

/** The options both audit services take. */
function serviceOptions(opts: AuditOptions): ServiceOptions {
  const given = parseQemuVersion(opts.qemuVersion);
  return {
    ...(given ? { qemuVersion: given } : {}),
    ...(opts.pveQemu ? { pveQemu: opts.pveQemu } : {}),
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.vmids !== undefined ? { vmids: opts.vmids } : {}),
  };
}

/** The --conf files `opts` name, or null when it names a tree. */
function confFiles(opts: AuditOptions): string[] | null {
  if (opts.conf === undefined || opts.conf.length === 0) return null;
  if (opts.configDir !== undefined) throw new UsageError('give either --config-dir or --conf, not both');
  return opts.conf;
}

/** The /etc/pve tree of an offline audit without --conf: --config-dir, else /etc/pve on a node. */
function treeDir(opts: AuditOptions): string {
  if (opts.configDir !== undefined) return opts.configDir;
  if (!existsSync('/etc/pve/storage.cfg')) {
    throw new UsageError('nothing to audit: give --config-dir DIR (a copy of /etc/pve), --conf FILE... --storage-cfg FILE, or --pve URL');
  }
  return '/etc/pve';
}

/** The offline tree or files `opts` name, as a reader; null for an online audit. */
function offlineReader(opts: AuditOptions): ConfigReader | null {
  if (opts.pve !== undefined) return null;
  const conf = confFiles(opts);
  if (conf !== null) {
    return confFilesReader(conf, { ...(opts.storageCfg !== undefined ? { storageCfg: opts.storageCfg } : {}), ...(opts.node !== undefined ? { node: opts.node } : {}) });
  }
  return etcPveReader(treeDir(opts), opts.storageCfg !== undefined ? { storageCfg: opts.storageCfg } : {});
}

/** Runs the audit and returns the report (no output). */
export async function audit(opts: AuditOptions): Promise<AuditReport> {
  const common = serviceOptions(opts);
  if (opts.pve !== undefined) {
    if (opts.configDir !== undefined || opts.conf !== undefined) {
      throw new UsageError('--pve cannot be combined with --config-dir or --conf: choose the online or the offline audit');
    }
    // Loaded only for --pve: the API client stack (axios, TLS) stays out of offline runs.
    const { auditOnline } = await import('./audit-online.js');
    return auditOnline({ ...opts, pve: opts.pve }, common);
  }
  return auditFiles(offlineReader(opts)!, common);
}

/**
 * The service's options from the command's. An offline audit (--config-dir/--conf) ignores PVE_URL,
 * PVE_FINGERPRINT and PVE_TOKEN from the environment (a shell set up for online runs must not turn it
 * into "choose the online or the offline audit"); `--pve` given on the command line still conflicts.
 */
export function normalizeAuditOptions(
  raw: AuditCommandOptions,
  env: CliIO['env'],
  origin: OptionOrigin = () => undefined,
): AuditOptions & { format: AuditFormat; explain?: number } {
  const offline = raw.configDir !== undefined || raw.conf !== undefined;
  // `origin` says `PVE_URL=…` for a value taken from the environment, `--pve` for the command line.
  const fromEnv = (attribute: string): boolean => origin(attribute)?.startsWith('PVE_') === true;
  const pve = offline && fromEnv('pve') ? undefined : raw.pve;
  const fingerprint = pve === undefined && fromEnv('fingerprint') ? undefined : raw.fingerprint;
  return {
    configDir: raw.configDir,
    conf: raw.conf,
    storageCfg: raw.storageCfg,
    qemuVersion: raw.qemuVersion,
    pveQemu: parsePveQemuOption(raw.pveQemuVersion),
    vmids: raw.vmid,
    node: raw.node,
    pve,
    tokenFile: raw.tokenFile,
    token: pve ? env.PVE_TOKEN || undefined : undefined,
    fingerprint,
    concurrency: raw.concurrency,
    insecure: raw.insecure,
    riskEvidence: raw.evidence !== false,
    format: raw.format ?? 'table',
    explain: raw.explain,
  };
}

function printIssues(issues: readonly ConfigIssue[], io: CliIO): void {
  for (const issue of issues) io.stderr(`pve-dataplane: ${formatIssue(issue)}\n`);
}

function nothingAudited(io: CliIO): number {
  io.stderr('pve-dataplane: nothing could be audited (no VM config was read and matched the filters)\n');
  return 1;
}

/** Prints the report the way the options ask; returns the exit code. */
export function present(report: AuditReport, opts: { format: AuditFormat; explain?: number; vmids?: number[]; node?: string }, io: CliIO): number {
  printIssues([...report.errors, ...(report.warnings ?? []), ...report.vms.flatMap((vm) => vm.issues)], io);
  if (report.vms.length === 0) return nothingAudited(io);
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
  if (opts.format === 'json') for (const piece of jsonPieces(report)) io.stdout(piece);
  else if (opts.format === 'csv') io.stdout(formatCsv(report));
  else io.stdout(formatTable(report, { color: useColor(io), width: outputWidth(io) }));
  return 0;
}

/** Writes the worker's bytes (UTF-8 text) to stdout. */
function writeBytes(io: CliIO, bytes: Uint8Array): void {
  if (io.stdoutBytes) io.stdoutBytes(bytes);
  else io.stdout(new TextDecoder().decode(bytes));
}

/** The worker's next message, which must be `kind` or `done`. */
async function nextOf(share: SecondShare): Promise<ShareMessage & { kind: 'json' | 'done' }> {
  const m = await share.next();
  if (m.kind !== 'json' && m.kind !== 'done') throw new Error(`audit worker: '${m.kind}' after 'prepared'`);
  return m;
}

/** The VMs of `run`, their config issues collected into `issues` on the way. */
function* collectingIssues(run: LazyAuditRun, issues: ConfigIssue[]): Generator<VmReport> {
  for (const vm of run.vms()) {
    issues.push(...vm.issues);
    yield vm;
  }
}

/**
 * `present` for `--format json` of an offline audit that makes each VM as it is written (and waits
 * for a slow reader of stdout): one VM in memory at a time. Same stdout and stderr; the VMs'
 * config issues come after the document instead of before it.
 */
async function presentJsonLazily(run: LazyAuditRun, io: CliIO): Promise<number> {
  printIssues([...run.errors, ...(run.warnings ?? [])], io);
  const count = run.inputs.length;
  if (count === 0) return nothingAudited(io);
  const vmIssues: ConfigIssue[] = [];
  const batch = io.stdoutBatch?.();
  if (batch) {
    // A file: never waits; the VMs' texts go into the writer's buffer as they are.
    try {
      for (const part of jsonDocumentParts(run, collectingIssues(run, vmIssues), count)) batch.write(part);
    } finally {
      batch.flush();
    }
  } else {
    for (const piece of jsonDocumentPieces(run, collectingIssues(run, vmIssues), count)) {
      io.stdout(piece);
      if (io.drained) await io.drained();
    }
  }
  printIssues(vmIssues, io);
  return 0;
}

/**
 * `present` for the table of an offline audit: each VM is kept only as the lines it prints
 * (its block), not as its report. Same stdout and stderr.
 */
function presentTableLazily(run: LazyAuditRun, io: CliIO): number {
  const style = makeStyle(useColor(io));
  const width = outputWidth(io);
  const blocks: TableBlock[] = [];
  const vmIssues: ConfigIssue[] = [];
  for (const vm of collectingIssues(run, vmIssues)) blocks.push(tableBlock(vm, style, width));
  printIssues([...run.errors, ...(run.warnings ?? []), ...vmIssues], io);
  if (blocks.length === 0) return nothingAudited(io);
  const batch = io.stdoutBatch?.();
  if (!batch) {
    io.stdout(renderTable(run, blocks, style, width));
    return 0;
  }
  // A file: a few hundred lines at a time into the writer's buffer, never the whole text as one
  // string. One write per line and one per newline were 142,000 writes for 5,000 VMs.
  const lines: string[] = [];
  const writeLines = (): void => {
    lines.push('');
    batch.write(lines.join('\n'));
    lines.length = 0;
  };
  try {
    for (const line of renderTableLines(run, blocks, style, width)) {
      lines.push(line);
      if (lines.length === LINES_PER_WRITE) writeLines();
    }
    if (lines.length > 0) writeLines();
  } finally {
    batch.flush();
  }
  return 0;
}

/** Table lines joined into one write to a file (about 32 KiB at 120 columns). */
const LINES_PER_WRITE = 256;

function sameIssues(a: readonly ConfigIssue[], b: readonly ConfigIssue[]): boolean {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The tree's own errors and warnings (storage.cfg, folders) are the same in both shares; a file
 * that could not be read is an error of one share only, and its place among the errors is the
 * read order of the whole tree: then the audit runs again on one thread.
 */
function sharesAgree(own: LazyAuditRun, other: SharePrepared): boolean {
  return sameIssues(own.errors, other.errors) && sameIssues(own.warnings ?? [], other.warnings);
}

/** The report's fields of both shares (the assumptions depend on every VM's node). */
function bothShares(own: LazyAuditRun, other: SharePrepared): LazyAuditRun {
  return { ...own, assumptions: auditAssumptions([...own.inputs, ...other.nodes.map((node) => ({ node }))], own.env) };
}

/**
 * {@link presentJsonLazily} with the upper VMIDs audited by the worker thread and written after the
 * main thread's own. The main thread writes nothing before the worker has read its files (the
 * errors come first), but goes on auditing meanwhile; null when the shares do not agree.
 */
async function writeJsonShares(own: LazyAuditRun, share: SecondShare, io: CliIO): Promise<number | null> {
  let other: SharePrepared | undefined;
  let failure: unknown;
  const preparing = share.prepared().then(
    (p) => void (other = p),
    (err: unknown) => void (failure = err ?? new Error('audit worker failed')),
  );
  const vmIssues: ConfigIssue[] = [];
  const held: string[] = [];
  let run: LazyAuditRun | null = null;
  /** Once the worker's files are read: false when the shares disagree, else starts the output. */
  const start = (p: SharePrepared): boolean => {
    if (!sharesAgree(own, p)) return false;
    run = bothShares(own, p);
    printIssues([...run.errors, ...(run.warnings ?? [])], io);
    for (const piece of held) io.stdout(piece);
    held.length = 0;
    return true;
  };
  const ownCount = own.inputs.length;
  if (ownCount > 0) {
    for (const piece of jsonVmPieces(collectingIssues(own, vmIssues), jsonHead(ownCount))) {
      if (run) {
        io.stdout(piece);
        if (io.drained) await io.drained();
        continue;
      }
      held.push(piece);
      // A turn of the event loop lets the worker's messages in.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (failure) throw failure;
      if (other && !start(other)) return null;
    }
  }
  await preparing;
  if (failure) throw failure;
  if (!run && !start(other!)) return null;
  const count = ownCount + other!.nodes.length;
  if (count === 0) return nothingAudited(io);
  if (ownCount === 0) io.stdout(jsonHead(count));
  for (let first = true; ; first = false) {
    const m = await nextOf(share);
    if (m.kind === 'done') {
      vmIssues.push(...m.issues);
      break;
    }
    if (first && ownCount > 0) io.stdout(JSON_VM_SEPARATOR);
    writeBytes(io, m.bytes);
    if (io.drained) await io.drained();
  }
  io.stdout(jsonTail(run!, count));
  printIssues(vmIssues, io);
  return 0;
}

/**
 * The offline JSON audit of a large tree on two threads (./audit-share.ts); null when it runs on
 * one (small tree, filters, single files), or has to (the shares do not agree).
 */
async function presentJsonShared(opts: AuditOptions, common: ServiceOptions, io: CliIO): Promise<number | null> {
  // Checked before any early return: a mistyped value fails on a small tree too.
  threadsChosen(io.env);
  if (opts.vmids !== undefined || opts.node !== undefined || confFiles(opts) !== null) return null;
  const configDir = treeDir(opts);
  const storage = opts.storageCfg !== undefined ? { storageCfg: opts.storageCfg } : {};
  const share = startSecondShare({ configDir, ...storage, options: common }, io.env);
  if (!share) return null;
  lighterOptimizingCompiler();
  try {
    const own = await auditFilesLazily(etcPveReader(configDir, storage), { ...common, vmidRange: share.own });
    const code = await writeJsonShares(own, share, io);
    if (code === null) await share.stop();
    return code;
  } catch (err) {
    await share.stop();
    throw err;
  }
}

/** Entry point used by the command table. */
export async function run(raw: AuditCommandOptions, io: CliIO, origin?: OptionOrigin): Promise<number> {
  const opts = normalizeAuditOptions(raw, io.env, origin);
  // Offline, 5,000 VMs are written without holding 5,000 reports (the JSON one VM at a time).
  if (opts.explain === undefined && opts.pve === undefined && (opts.format === 'json' || opts.format === 'table')) {
    const common = serviceOptions(opts);
    const shared = opts.format === 'json' ? await presentJsonShared(opts, common, io) : null;
    if (shared !== null) return shared;
    smallerInlining();
    const lazy = await auditFilesLazily(offlineReader(opts)!, common);
    return opts.format === 'json' ? presentJsonLazily(lazy, io) : presentTableLazily(lazy, io);
  }
  const report = await audit(opts);
  return present(report, opts, io);
}
