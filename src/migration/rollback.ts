// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Rollback from the journal: restore the exact previous string of every key apply wrote, from
 * the baseline recorded before the first write, digest-guarded like apply and with the same
 * reboot policies. A VM whose keys changed since (someone else's value, not ours and not the
 * original) is refused with the reason, never overwritten.
 *
 * Where the change is still pending on a running VM, the pending values are reverted (`revert`),
 * which leaves the config file exactly as it was; where it already runs, the old values are
 * written and take effect at the next cold start (`--reboot now` does it). Either way, when
 * nothing else changed, the file ends byte-identical to before the first apply (same digest).
 */
import pLimit from 'p-limit';
import { sameConfigValue } from './config-keys.js';
import { replayJournal, touchedKeys, type JournalEntry, type VmJournal } from './journal-model.js';
import {
  type EngineOptions,
  type JournalWriter,
  type RunSummary,
  type VmResult,
  Runner,
  foreignPending,
  isPending,
  nextValue,
  noPending,
} from './runner.js';
import type { LiveVm, MigrationTarget, WriteRequest } from './target.js';

export type RollbackOptions = EngineOptions;

/** Roll back every VM the journal wrote to (or `options.vmids`). */
export async function rollbackJournal(
  entries: JournalEntry[],
  target: MigrationTarget,
  journal: JournalWriter,
  options: RollbackOptions,
): Promise<RunSummary> {
  const runner = new Runner(target, journal, entries, options);
  await runner.record({ t: 'run', kind: 'rollback', reboot: options.reboot });
  const wanted = options.vmids ? new Set(options.vmids) : null;
  const vms = [...replayJournal(entries).values()]
    .filter((j) => j.writes.some((w) => w.intent.purpose === 'apply'))
    .filter((j) => !wanted || wanted.has(j.vmid))
    .sort((a, b) => a.vmid - b.vmid);
  // VMs apply only cold-started: what ran after it was pending before it, written by someone else.
  const applyRuns = new Set(entries.filter((e) => e.t === 'run' && e.kind === 'apply').map((e) => e.run));
  const rebootedOnly = [...replayJournal(entries).values()]
    .filter((j) => !j.writes.some((w) => w.intent.purpose === 'apply'))
    .filter((j) => j.power.some((p) => applyRuns.has(p.intent.run)))
    .filter((j) => !wanted || wanted.has(j.vmid))
    .sort((a, b) => a.vmid - b.vmid);
  options.onEvent?.({ type: 'start', total: vms.length + rebootedOnly.length });
  const limit = pLimit(runner.opts.concurrency);
  const results = await Promise.all(vms.map((j) => limit(() => runner.startVm(j.vmid, j.node, () => rollbackVm(runner, j)))));
  for (const j of rebootedOnly) results.push(await runner.finish({ vmid: j.vmid, node: j.node, result: 'skipped', reason: rebootedOnlyReason(j) }));
  return runner.end(results.sort((a, b) => a.vmid - b.vmid));
}

function rebootedOnlyReason(j: VmJournal): string {
  const keys = j.baseline ? [...Object.keys(j.baseline.pending), ...j.baseline.deletes.map((d) => `delete ${d.key}`)] : [];
  const what = keys.length > 0 ? keys.join(', ') : 'the change';
  return (
    `nothing of ours to restore: ${what} ${keys.length === 1 || keys.length === 0 ? 'was' : 'were'} already pending before this apply ` +
    '(not written by it), which only cold-started the VM to make them run; set them back by hand if they should not'
  );
}

/** What rollback knows about one VM's keys. */
interface KeyFacts {
  original: string | null;
  /** Values apply wrote (null = deleted), and values PVE showed after those writes. */
  written: Set<string | null>;
  /** A temporary disk apply allocated: deleting it destroys its volume. */
  allocated: boolean;
}

function keyFacts(j: VmJournal): Map<string, KeyFacts> {
  const facts = new Map<string, KeyFacts>();
  for (const k of touchedKeys(j, 'apply')) {
    facts.set(k, { original: j.baseline?.current[k] ?? null, written: new Set(), allocated: false });
  }
  for (const { intent, outcome } of j.writes) {
    if (intent.purpose !== 'apply') continue;
    for (const [k, v] of Object.entries(intent.set)) {
      const f = facts.get(k)!;
      if (intent.allocates?.includes(k)) f.allocated = true;
      else f.written.add(v);
    }
    for (const k of intent.delete) facts.get(k)!.written.add(null);
    for (const [k, v] of Object.entries(outcome?.values ?? {})) facts.get(k)?.written.add(v);
  }
  return facts;
}

function show(v: string | null): string {
  return v === null ? '(absent)' : `'${v}'`;
}

/** Keys whose value is neither the original nor one apply wrote: someone else changed them. */
function conflicts(live: LiveVm, facts: Map<string, KeyFacts>): string[] {
  const out: string[] = [];
  for (const [k, f] of facts) {
    for (const v of new Set([live.input.current[k] ?? null, nextValue(live, k)])) {
      const ok = sameConfigValue(k, v, f.original) || [...f.written].some((w) => sameConfigValue(k, v, w)) || (f.allocated && v !== null);
      if (!ok) out.push(`${k} is now ${show(v)} (before apply: ${show(f.original)})`);
    }
  }
  return out;
}

/** The writes that restore the originals: plain ones, then forced deletes of temporary disks. */
function restoreRequests(live: LiveVm, facts: Map<string, KeyFacts>): WriteRequest[] {
  const plain: WriteRequest = { set: {}, delete: [], revert: [] };
  const forced: WriteRequest = { set: {}, delete: [], force: true };
  for (const [k, f] of facts) {
    const cur = live.input.current[k] ?? null;
    const pending = isPending(live, k);
    if (pending && sameConfigValue(k, cur, f.original)) {
      plain.revert!.push(k);
      continue;
    }
    // Nothing pending and the original in place, or the original already pending (a cold start is left).
    if (sameConfigValue(k, nextValue(live, k), f.original)) continue;
    if (f.original !== null) plain.set[k] = f.original;
    else if (f.allocated) forced.delete.push(k);
    else plain.delete.push(k);
  }
  return [plain, forced].filter((r) => Object.keys(r.set).length > 0 || r.delete.length > 0 || (r.revert?.length ?? 0) > 0);
}

function restored(live: LiveVm, facts: Map<string, KeyFacts>): string | null {
  const off: string[] = [];
  for (const [k, f] of facts) {
    const cur = live.input.current[k] ?? null;
    if (!sameConfigValue(k, cur, f.original)) off.push(`${k} is ${show(cur)}, was ${show(f.original)}`);
    else if (isPending(live, k)) off.push(`${k} still pending`);
  }
  return off.length > 0 ? off.join('; ') : null;
}

async function rollbackVm(runner: Runner, j: VmJournal): Promise<VmResult> {
  const base = { vmid: j.vmid, node: j.node };
  const baseline = j.baseline;
  if (!baseline) {
    return runner.finish({ ...base, result: 'failed', reason: 'the journal has no baseline for this VM (written by another version?); restore by hand from the write entries' });
  }
  const node = baseline.node;
  const facts = keyFacts(j);
  try {
    let live = await runner.target.readVm(node, j.vmid, runner.opts.signal);
    live = await runner.settleInterruptedPower(live);
    for (let attempt = 1; ; attempt++) {
      const conflict = conflicts(live, facts);
      if (conflict.length > 0) {
        return runner.finish({ ...base, result: 'skipped', reason: `refused: changed since apply: ${conflict.join('; ')}` });
      }
      const foreign = foreignPending(live, facts.keys());
      if (foreign.length > 0) {
        return runner.finish({ ...base, result: 'skipped', reason: `refused: pending changes that are not ours: ${foreign.join(', ')}` });
      }
      const requests = restoreRequests(live, facts);
      if (requests.length === 0) break;
      const needsColdStart = live.status === 'running' && requests.some((r) => Object.keys(r.set).length > 0 || r.delete.length > 0);
      if (needsColdStart && runner.opts.reboot === 'if-stopped') {
        return runner.finish({ ...base, result: 'skipped', reason: 'running; --reboot if-stopped only rolls back stopped VMs' });
      }
      if (attempt > runner.opts.maxAttempts + 2) {
        return runner.finish({ ...base, result: 'failed', reason: 'the config kept changing while restoring; run rollback again' });
      }
      runner.step(j.vmid, attempt === 1 ? 'restoring' : `restoring (attempt ${attempt})`);
      const req = requests[0]!;
      const w = await runner.write(live, req, { step: 0, purpose: 'rollback', attempt });
      if (w.kind === 'failed') return runner.finish({ ...base, result: 'failed', reason: `restore refused: ${w.reason}` });
      live = w.kind === 'ok' ? w.live : await runner.target.readVm(node, j.vmid, runner.opts.signal);
    }
    // Values are back (or pending); bring the running config and the power state back too.
    const stillPending = [...facts.keys()].some((k) => isPending(live, k));
    if (live.status === 'running' && stillPending) {
      if (runner.opts.reboot !== 'now') {
        return runner.finish({
          ...base,
          result: 'pending-reboot',
          reason: 'old values are pending: a cold start or API reboot is needed (a reboot inside the guest is not enough)',
          digest: live.input.digest,
        });
      }
      runner.step(j.vmid, 'rebooting');
      const r = await runner.power(live, 'reboot', 0);
      if (!r.ok) return runner.finish({ ...base, result: 'failed', reason: `${r.reason}; the old values stay pending` });
      live = r.live;
    } else if (runner.opts.reboot === 'now' && live.status !== baseline.status) {
      // A staged path interrupted between its shutdown and start steps.
      const action = baseline.status === 'running' ? 'start' : 'shutdown';
      runner.step(j.vmid, action === 'start' ? 'starting (it was running before apply)' : 'shutting down (it was stopped before apply)');
      const r = await runner.power(live, action, 0);
      if (!r.ok) return runner.finish({ ...base, result: 'failed', reason: r.reason });
      live = r.live;
    }
    const off = restored(live, facts);
    if (off) return runner.finish({ ...base, result: 'failed', reason: `not restored: ${off}` });
    const identical = live.input.digest === baseline.digest;
    const sameValues = sameKeyValues(live.input.current, baseline.current) && noPending(live) && baselineHadNoPending(baseline);
    return runner.finish({
      ...base,
      result: 'restored',
      reason: identical
        ? `config file byte-identical to before the first apply (digest ${baseline.digest})`
        : sameValues
          ? // PVE writes keys sorted; a file edited by hand had another order, which no API write can give back.
            `every key has its value from before the first apply; the digest differs (${live.input.digest}, was ${baseline.digest}) ` +
            'only because PVE rewrote the hand-edited file in its own key order'
          : `our keys restored; the config file differs from before the first apply elsewhere (digest ${live.input.digest}, was ${baseline.digest})`,
      digest: live.input.digest,
    });
  } catch (err) {
    runner.checkAbort();
    return runner.finish({ ...base, result: 'failed', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` });
  }
}

function sameKeyValues(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => k !== 'digest'));
  return [...keys].every((k) => a[k] === b[k]);
}

function baselineHadNoPending(b: { pending: Record<string, string>; deletes: unknown[] }): boolean {
  return Object.keys(b.pending).filter((k) => k !== 'digest').length === 0 && b.deletes.length === 0;
}
