// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `POST /dp/apply {vmids, aio?}`: the panel's Apply. The shim does exactly what
 * `pve-dataplane plan --vmid ... --output F` then `apply --from-plan F --reboot never --yes` do,
 * with the same functions (makePlan, applyPlanOnline of src/migration/online.ts): fresh reads, one digest-guarded write per
 * VM, the JSONL journal (fsync before every write) in the state directory, and no reboot, so on a
 * running VM every change stays pending (PVE's own Revert still undoes it) until the next cold
 * start. The answer names the journal and the `rollback` command.
 *
 * NOTE: the run happens here, not in the browser, so the journal lives on disk beside the
 * token and a closed tab cannot lose it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TargetAio } from '../../src/migration/types.js';
import type { RunSummary } from '../../src/migration/runner.js';
import { applyPlanOnline, makePlan } from '../../src/migration/online.js';
import { openRunJournal } from '../../src/node/journal.js';
import { DP_APPLY_BUSY, DP_BAD_REQUEST, DP_UPSTREAM_UNREACHABLE, sendShimError } from '../errors.js';
import type { ResolvedShimOptions } from '../options.js';
import { createUpstreamClient } from '../upstream-client.js';
import { refuseWrite } from '../write-guard.js';

/** Most VMs one panel apply may touch; bigger batches belong to the CLI (progress, resume). */
export const MAX_APPLY_VMS = 200;
const AIO: readonly TargetAio[] = ['threads', 'io_uring', 'native', 'keep'];

/** The `/dp/apply` answer. */
export interface ApplyAnswer {
  summary: RunSummary;
  planFile: string;
  journal: string;
  /** The command that restores the previous values (token file left for the user to fill in). */
  rollback: string;
  /** VMs the fresh plan could not read, and why. */
  errors: string[];
}

function parseBody(body: unknown): { vmids: number[]; aio: TargetAio } | string {
  const b = body as { vmids?: unknown; aio?: unknown } | null;
  if (!b || typeof b !== 'object') return 'expected a JSON object {"vmids": [100, ...], "aio": "threads"}';
  if (!Array.isArray(b.vmids) || b.vmids.length === 0) return '"vmids" must be a non-empty array of VMIDs';
  if (b.vmids.length > MAX_APPLY_VMS) return `at most ${MAX_APPLY_VMS} VMs per apply from the panel; use the CLI for more`;
  if (!b.vmids.every((v) => Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 999_999_999)) {
    return '"vmids" must hold whole numbers from 100 to 999999999';
  }
  const aio = b.aio ?? 'threads';
  if (!AIO.includes(aio as TargetAio)) return `"aio" must be one of ${AIO.join(', ')}`;
  return { vmids: [...new Set(b.vmids as number[])].sort((x, y) => x - y), aio: aio as TargetAio };
}

export async function applyRoute(app: FastifyInstance, opts: ResolvedShimOptions): Promise<void> {
  const client = createUpstreamClient(opts);
  const pve = `${opts.upstream.origin}`;
  let busy = false;

  app.post('/dp/apply', async (request, reply) => {
    const refused = refuseWrite(request, reply, opts, 'POST /dp/apply');
    if (refused) return refused;
    const parsed = parseBody(request.body);
    if (typeof parsed === 'string') return sendShimError(reply, DP_BAD_REQUEST, `/dp/apply: ${parsed}`);
    if (busy) return sendShimError(reply, DP_APPLY_BUSY, 'another apply is running in this shim; wait for it to finish');
    busy = true;
    try {
      const { plan, errors } = await makePlan(client, { vmids: parsed.vmids }, { aio: parsed.aio }, { pve });
      const bytes = `${JSON.stringify(plan, null, 2)}\n`;
      const hash = createHash('sha1').update(bytes).digest('hex');
      const planDir = join(opts.stateDir, 'plans');
      mkdirSync(planDir, { recursive: true, mode: 0o700 });
      const planFile = join(planDir, `panel-${hash.slice(0, 12)}.json`);
      writeFileSync(planFile, bytes, { mode: 0o600 });
      const journal = join(opts.stateDir, 'journals', `apply-${hash.slice(0, 12)}.jsonl`);
      const run = openRunJournal(journal, 'apply', () => {});
      let summary: RunSummary;
      try {
        summary = await applyPlanOnline(client, plan, run, { planFile, planHash: hash, reboot: 'never', concurrency: 2, pve });
      } finally {
        await run.writer.close();
      }
      const answer: ApplyAnswer = {
        summary,
        planFile,
        journal,
        rollback: rollbackCommand(opts, pve, journal),
        errors,
      };
      return answer;
    } catch (err) {
      // MigrationReadError when PVE cannot be read at all; NotAJournalError cannot happen (our own path).
      return sendShimError(reply, DP_UPSTREAM_UNREACHABLE, `apply: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      busy = false;
    }
  });
}

/** The rollback command as the user will type it: the TLS options the shim itself uses included. */
function rollbackCommand(opts: ResolvedShimOptions, pve: string, journal: string): string {
  const tls = opts.fingerprint ? ` --fingerprint ${opts.fingerprint}` : opts.insecure ? ' --insecure' : '';
  return `pve-dataplane rollback --pve ${pve}${tls} --token-file TOKEN_FILE --journal ${journal} --yes`;
}
