// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane plan`: what the migration to virtio-scsi-single + iothread + aio would change,
 * per VM, with its gates. Never writes to PVE. `run()` parses the options, plans with the
 * migration's `makePlan()` (src/migration/online.ts), prints the plan and writes `--output`.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import type { RiskLevel } from '../../analysis/types.js';
import type { PveClient } from '../../api/client.js';
import { formatPlan } from '../../migration/plan-format.js';
import { MigrationReadError, makePlan } from '../../migration/online.js';
import type { PlanOptions, TargetAio } from '../../migration/types.js';
import { NotAJournalError } from '../../node/journal.js';
import { ExitError, UsageError } from '../errors.js';
import { type CliIO, useColor } from '../io.js';
import { type OnlineOptions, clientFromOptions, createProgress } from '../online.js';
import { DEFAULTS, type OptionOrigin } from '../options.js';
import { readFailureHint } from '../read-hint.js';

/** Online options shared by plan, apply and rollback (parsed by ../options.ts; PVE_URL and PVE_FINGERPRINT included). */
export interface OnlineCommandOptions {
  pve?: string;
  tokenFile?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
}

/** Options of `plan`. */
export interface PlanCommandOptions extends OnlineCommandOptions {
  node?: string;
  vmid?: number[];
  all?: boolean;
  minRisk?: RiskLevel;
  aio?: TargetAio;
  convertSata?: boolean;
  convertIde?: boolean;
  windowsStaged?: boolean;
  override?: string[];
  output?: string;
  format?: 'table' | 'json';
}

/** The PVE client of an online migration command. */
export function onlineClient(raw: OnlineCommandOptions, io: CliIO): Promise<PveClient> {
  const opts: OnlineOptions = {
    concurrency: raw.concurrency ?? DEFAULTS.concurrency,
    ...(raw.pve !== undefined ? { pve: raw.pve } : {}),
    ...(raw.tokenFile !== undefined ? { tokenFile: raw.tokenFile } : {}),
    ...(raw.fingerprint !== undefined ? { fingerprint: raw.fingerprint } : {}),
    ...(raw.insecure ? { insecure: true } : {}),
  };
  return clientFromOptions(opts, io.env, (l) => io.stderr(`pve-dataplane: ${l}\n`));
}

/** Read-only mode (`--read-only` or DP_READ_ONLY) refuses every write command; `origin` names how it was set. */
export function refuseIfReadOnly(command: string, readOnly: boolean | undefined, origin: OptionOrigin): void {
  if (readOnly) {
    throw new ExitError(
      3,
      `${command} refused: read-only mode (${origin('readOnly') ?? '--read-only'}); ` +
        (command === 'rollback' ? 'nothing was restored; the journal lists what apply wrote' : "'plan' shows what it would change"),
    );
  }
}

/** The VM selection and the plan options of `plan`. */
export function normalizePlanOptions(raw: PlanCommandOptions): { selection: { node?: string; vmids?: number[] }; planOptions: PlanOptions } {
  const chosen = [raw.node !== undefined, raw.vmid !== undefined, raw.all === true].filter(Boolean).length;
  if (chosen !== 1) {
    throw new UsageError('choose the VMs: exactly one of --node NODE, --vmid 101,102 or --all');
  }
  const planOptions: PlanOptions = { aio: raw.aio ?? DEFAULTS.aio };
  if (raw.convertSata) planOptions.convertSata = true;
  if (raw.convertIde) planOptions.convertIde = true;
  if (raw.windowsStaged) planOptions.windowsStaged = true;
  if (raw.override && raw.override.length > 0) planOptions.overrides = raw.override;
  if (raw.minRisk) planOptions.minRisk = raw.minRisk;
  const selection: { node?: string; vmids?: number[] } = {};
  if (raw.node !== undefined) selection.node = raw.node;
  if (raw.vmid !== undefined) selection.vmids = raw.vmid;
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
    if (err instanceof MigrationReadError) {
      const hint = readFailureHint(err.cause);
      throw new ExitError(1, `${err.message}${hint ? `\n  ${hint}` : ''}`);
    }
    if (err instanceof NotAJournalError) throw new ExitError(1, err.message);
    throw err;
  }
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `apply` command for a plan written to `raw.output`, with the connection options the user gave (so it runs as shown). */
export function applyCommand(raw: PlanCommandOptions, pve: string): string {
  const words = ['pve-dataplane', 'apply', '--pve', pve];
  if (raw.tokenFile !== undefined) words.push('--token-file', raw.tokenFile);
  if (raw.fingerprint !== undefined) words.push('--fingerprint', raw.fingerprint);
  if (raw.insecure) words.push('--insecure');
  words.push('--from-plan', raw.output!, '--yes');
  return words.map((w, i) => (i < 2 ? w : shellWord(w))).join(' ');
}

/** `plan` as the CLI runs it. */
export async function run(raw: PlanCommandOptions, io: CliIO): Promise<number> {
  const format = raw.format ?? 'table';
  const { selection, planOptions } = normalizePlanOptions(raw);
  const client = await onlineClient(raw, io);
  const pve = raw.pve ?? '';
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
