// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane plan`: what the migration to virtio-scsi-single + iothread + aio would change,
 * per VM, with its gates. Never writes to PVE. `run()` parses the options, plans with the
 * migration's `makePlan()` (src/migration/online.ts), prints the plan and writes `--output`.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import type { RiskLevel } from '../../analysis/types.js';
import type { PveClient } from '../../api/client.js';
import { GATES, overridableCodes } from '../../migration/gates.js';
import { formatPlan } from '../../migration/plan-format.js';
import { MigrationReadError, makePlan } from '../../migration/online.js';
import type { PlanOptions, TargetAio } from '../../migration/types.js';
import { NotAJournalError } from '../../node/journal.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { type OnlineOptions, clientFromOptions, createProgress } from '../online.js';
import { parseVmidList } from './audit.js';

/** Online options shared by plan, apply and rollback (raw commander strings). */
export interface RawOnlineOptions {
  pve?: string;
  tokenFile?: string;
  fingerprint?: string;
  concurrency?: string;
  insecure?: boolean;
}

export interface RawPlanOptions extends RawOnlineOptions {
  node?: string;
  vmid?: string;
  all?: boolean;
  minRisk?: string;
  aio?: string;
  convertSata?: boolean;
  convertIde?: boolean;
  windowsStaged?: boolean;
  override?: string[];
  output?: string;
  format?: string;
}

/** `--concurrency` as a number (default 4). */
export function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 4;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 64) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 64 (got '${text}')`);
  }
  return Number(text);
}

/** The PVE client of an online migration command. */
export function onlineClient(raw: RawOnlineOptions, io: CliIO): Promise<PveClient> {
  const opts: OnlineOptions = {
    concurrency: parseConcurrency(raw.concurrency),
    ...(raw.pve !== undefined ? { pve: raw.pve } : {}),
    ...(raw.tokenFile !== undefined ? { tokenFile: raw.tokenFile } : {}),
    ...(raw.fingerprint !== undefined ? { fingerprint: raw.fingerprint } : {}),
    ...(raw.insecure ? { insecure: true } : {}),
  };
  return clientFromOptions(opts, io.env, (l) => io.stderr(`pve-dataplane: ${l}\n`));
}

/** `--reboot` value. */
export function parseReboot(text: string | undefined): 'never' | 'now' | 'if-stopped' {
  const v = text ?? 'never';
  if (v !== 'never' && v !== 'now' && v !== 'if-stopped') {
    throw new UsageError(`--reboot must be never, now or if-stopped (got '${text}')`);
  }
  return v;
}

/** Read-only mode (`--read-only` or DP_READ_ONLY=1) refuses every write command. */
export function refuseIfReadOnly(command: string, flag: boolean | undefined, env: CliIO['env']): void {
  const envOn = env.DP_READ_ONLY !== undefined && /^(1|true|yes|on)$/i.test(env.DP_READ_ONLY);
  if (flag || envOn) {
    throw new ExitError(
      3,
      `${command} refused: read-only mode (${flag ? '--read-only' : 'DP_READ_ONLY=1'}); ` +
        (command === 'rollback' ? 'nothing was restored; the journal lists what apply wrote' : "'plan' shows what it would change"),
    );
  }
}

const RISK_LEVELS: RiskLevel[] = ['critical', 'warning', 'info', 'ok'];
const AIO: TargetAio[] = ['threads', 'io_uring', 'native', 'keep'];

export interface PlanRunOptions {
  planOptions: PlanOptions;
  node?: string;
  vmids?: number[];
  pve: string;
}

/** Validates the raw options of `plan`. */
export function normalizePlanOptions(raw: RawPlanOptions): { selection: { node?: string; vmids?: number[] }; planOptions: PlanOptions } {
  const chosen = [raw.node !== undefined, raw.vmid !== undefined, raw.all === true].filter(Boolean).length;
  if (chosen !== 1) {
    throw new UsageError('choose the VMs: exactly one of --node NODE, --vmid 101,102 or --all');
  }
  const aio = (raw.aio ?? 'threads') as TargetAio;
  if (!AIO.includes(aio)) throw new UsageError(`--aio must be threads, io_uring, native or keep (got '${raw.aio}')`);
  let minRisk: RiskLevel | null = null;
  if (raw.minRisk !== undefined) {
    if (!RISK_LEVELS.includes(raw.minRisk as RiskLevel)) {
      throw new UsageError(`--min-risk must be critical, warning, info or ok (got '${raw.minRisk}')`);
    }
    minRisk = raw.minRisk as RiskLevel;
  }
  const overrides = (raw.override ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  for (const code of overrides) {
    // A typo must not silently leave the gate in place (or worse, look like it was overridden).
    if (!(code in GATES)) {
      throw new UsageError(`--override ${code}: no such gate code; codes that can be overridden: ${overridableCodes().join(', ')}`);
    }
    if (!overridableCodes().includes(code)) {
      throw new UsageError(`--override ${code}: this gate cannot be overridden (codes that can: ${overridableCodes().join(', ')})`);
    }
  }
  const planOptions: PlanOptions = { aio };
  if (raw.convertSata) planOptions.convertSata = true;
  if (raw.convertIde) planOptions.convertIde = true;
  if (raw.windowsStaged) planOptions.windowsStaged = true;
  if (overrides.length > 0) planOptions.overrides = overrides;
  if (minRisk) planOptions.minRisk = minRisk;
  const selection: { node?: string; vmids?: number[] } = {};
  if (raw.node !== undefined) selection.node = raw.node;
  if (raw.vmid !== undefined) selection.vmids = parseVmidList(raw.vmid);
  return { selection, planOptions };
}

/** `makePlan` lives with the migration (the shim plans with it too); re-exported for scripts. */
export { makePlan };

/**
 * Runs `work`, turning the migration's "cannot read PVE" and "not a journal" errors into a
 * clean exit 1 with their message (they name the input).
 */
export async function exitOnInputError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof MigrationReadError || err instanceof NotAJournalError) throw new ExitError(1, err.message);
    throw err;
  }
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `apply` command for a plan written to `raw.output`, with the connection options the user gave (so it runs as shown). */
export function applyCommand(raw: RawPlanOptions, pve: string): string {
  const words = ['pve-dataplane', 'apply', '--pve', pve];
  if (raw.tokenFile !== undefined) words.push('--token-file', raw.tokenFile);
  if (raw.fingerprint !== undefined) words.push('--fingerprint', raw.fingerprint);
  if (raw.insecure) words.push('--insecure');
  words.push('--from-plan', raw.output!, '--yes');
  return words.map((w, i) => (i < 2 ? w : shellWord(w))).join(' ');
}

/** `plan` as the CLI runs it. */
export async function run(raw: RawPlanOptions, io: CliIO): Promise<number> {
  const format = raw.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json (got '${raw.format}')`);
  const { selection, planOptions } = normalizePlanOptions(raw);
  const client = await onlineClient(raw, io);
  const pve = raw.pve ?? io.env.PVE_URL ?? '';
  const bar = createProgress('plan');
  let result;
  try {
    result = await exitOnInputError(() => makePlan(client, selection, planOptions, { pve, onProgress: (d, t) => bar.update(d, t) }));
  } finally {
    bar.stop();
  }
  const { plan, errors } = result;
  const json = JSON.stringify(plan, null, 2) + '\n';
  if (raw.output) {
    try {
      // A plan holds whole config values (cloud-init users, hook scripts, args): owner only, also
      // when the file existed with a wider mode.
      writeFileSync(raw.output, json, { mode: 0o600 });
      chmodSync(raw.output, 0o600);
    } catch (err) {
      throw new ExitError(1, `cannot write --output ${raw.output}: ${(err as Error).message}`);
    }
  }
  io.stdout(format === 'json' ? json : formatPlan(plan, { color: useColor(io) }));
  for (const e of errors) io.stderr(`pve-dataplane: ${e}\n`);
  if (raw.output) {
    io.stderr(`plan written to ${raw.output}; apply it with: ${applyCommand(raw, pve)}\n`);
  }
  // A VMID asked for by name and not in the plan is a mistake a script must notice (exit 1).
  const planned = new Set([...plan.vms.map((v) => v.vmid), ...(plan.filtered ?? []).map((f) => f.vmid)]);
  const missing = (selection.vmids ?? []).filter((id) => !planned.has(id));
  if (missing.length > 0) {
    io.stderr(
      `pve-dataplane: --vmid ${missing.join(',')}: not planned: no such VM in this cluster (or a container, or the token lacks VM.Audit on it)\n`,
    );
    return 1;
  }
  return 0;
}
