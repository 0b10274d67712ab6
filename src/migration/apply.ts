// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The apply engine: executes a saved plan, only that (docs/how-qemu-server-decides.md#api).
 *
 * Per VM: re-read, re-plan with the plan's options and compare with the saved plan (a VM that
 * changed in a way that alters our change is reported, never "fixed up"); one digest-guarded
 * write; on a digest mismatch re-read, re-plan, compare and retry a bounded number of times; then
 * the reboot policy. Re-running apply on the same journal resumes: what is done shows in PVE's
 * state (the re-plan has nothing left to write), what was in flight shows in the journal.
 */
import pLimit from 'p-limit';
import { PveNotFoundError } from '../api/errors.js';
import { agentEnabled, sameConfigValue } from './config-keys.js';
import type { JournalEntry, RebootPolicy } from './journal-model.js';
import { planVm } from './planner.js';
import {
  type EngineOptions,
  type JournalWriter,
  type RunSummary,
  type VmResult,
  Runner,
  foreignPending,
  isPending,
  nextValue,
  writeLanded,
} from './runner.js';
import type { GuestDiskCheck, LiveVm, MigrationTarget, WriteRequest } from './target.js';
import type { KeyChange, MigrationPlan, PlanStep, VmPlan } from './types.js';

export interface ApplyOptions extends EngineOptions {
  /** VMs whose staged-path guest check the user confirmed by hand (no guest agent). */
  confirmStaged?: number[];
  /** Authenticated user (root@pam may rewrite passthrough disks). */
  authUser?: string | null;
  /** Plan file path and hash, for the journal's run entry. */
  planFile?: string;
  planHash?: string;
  pve?: string | null;
  /**
   * The plan applied is the plan previewed: a VM whose config digest is no longer the one the
   * plan read (and that this journal has not written to) is skipped as "changed since the
   * preview", never re-planned; a digest mismatch on the write is not retried. The CLI leaves it
   * off: its saved plan is re-checked change by change instead.
   */
  previewDigest?: boolean;
}

/** Reason prefix of a VM skipped because its config changed after the plan was made. */
export const CHANGED_SINCE_PREVIEW = 'changed since the preview';

/** Why apply refuses to start at all. */
export class ApplyRefusedError extends Error {
  override name = 'ApplyRefusedError';
}

/**
 * Apply a saved plan. `prior` is the journal as read before this run (resume); every entry of
 * this run goes to `journal`. Throws only on abort or a journal failure; per-VM problems are
 * results.
 */
export async function applyPlan(
  plan: MigrationPlan,
  target: MigrationTarget,
  journal: JournalWriter,
  prior: JournalEntry[],
  options: ApplyOptions,
): Promise<RunSummary> {
  const runner = new Runner(target, journal, prior, options);
  const runEntry: Parameters<Runner['record']>[0] = { t: 'run', kind: 'apply', reboot: options.reboot, pid: globalPid() };
  if (options.planFile) runEntry.plan = options.planFile;
  if (options.planHash) runEntry.planHash = options.planHash;
  if (options.pve !== undefined) runEntry.pve = options.pve;
  await runner.record(runEntry);
  const wanted = options.vmids ? new Set(options.vmids) : null;
  const vms = plan.vms.filter((vm) => !wanted || wanted.has(vm.vmid));
  options.onEvent?.({ type: 'start', total: vms.length });
  const limit = pLimit(runner.opts.concurrency);
  const ctx: VmContext = { runner, plan, options };
  const results = await Promise.all(vms.map((vm) => limit(() => runner.startVm(vm.vmid, vm.node, () => applyVm(ctx, vm)))));
  return runner.end(results);
}

interface VmContext {
  runner: Runner;
  plan: MigrationPlan;
  options: ApplyOptions;
}

function globalPid(): number | undefined {
  const p = (globalThis as { process?: { pid?: number } }).process;
  return p?.pid;
}

async function applyVm(ctx: VmContext, saved: VmPlan): Promise<VmResult> {
  const { runner } = ctx;
  const base = { vmid: saved.vmid, node: saved.node };
  if (!saved.eligible) {
    const reason =
      saved.blocked.length > 0
        ? saved.blocked.map((g) => `${g.code}: ${g.message}`).join('; ')
        : 'already in the target state';
    return runner.finish({ ...base, result: 'skipped', reason });
  }
  if (!saved.node) return runner.finish({ ...base, result: 'failed', reason: 'the plan does not say which node the VM is on; plan again' });
  runner.opts.onEvent?.({ type: 'vm-step', vmid: saved.vmid, message: 'reading' });
  try {
    let live;
    try {
      live = await runner.target.readVm(saved.node, saved.vmid, runner.opts.signal);
    } catch (err) {
      // PVE answers 500 "Configuration file 'nodes/N/qemu-server/ID.conf' does not exist".
      if (!(err instanceof PveNotFoundError)) throw err;
      const reason = `VM ${saved.vmid} is not on ${saved.node} (migrated to another node since the plan, or the plan is of another cluster); nothing written, plan again`;
      return await runner.finish({ ...base, result: 'failed', reason });
    }
    live = await runner.settleInterruptedPower(live);
    const changed = changedSincePreview(ctx, saved, live);
    if (changed) return await runner.finish({ ...base, result: 'skipped', reason: changed });
    return saved.path === 'staged' ? await applyStaged(ctx, saved, live) : await applyDirect(ctx, saved, live);
  } catch (err) {
    runner.checkAbort();
    return runner.finish({ ...base, result: 'failed', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/** With `previewDigest`: why the VM no longer is as previewed, or null. */
function changedSincePreview(ctx: VmContext, saved: VmPlan, live: LiveVm): string | null {
  if (!ctx.options.previewDigest || live.input.digest === saved.digest || wroteBefore(ctx.runner, saved.vmid)) return null;
  return (
    `${CHANGED_SINCE_PREVIEW}: its config digest is ${live.input.digest.slice(0, 12)}, the preview read ${saved.digest.slice(0, 12)} ` +
    '(edited by someone else since); nothing written, preview it again'
  );
}

/** Re-plan a VM as read now, with the saved plan's options. */
async function replan(ctx: VmContext, live: LiveVm): Promise<VmPlan> {
  const { runner, plan, options } = ctx;
  const [permissions, ha] = await Promise.all([
    runner.target.permissions(runner.opts.signal),
    runner.target.haResource(live.input.vmid, runner.opts.signal),
  ]);
  const report = runner.target.analyze(live);
  return planVm(
    { input: live.input, report, ha: ha ?? (live.ha.managed ? { sid: `vm:${live.input.vmid}`, state: live.ha.state ?? 'started' } : null), permissions },
    { ...plan.options, aio: plan.aio, authUser: options.authUser ?? null },
  );
}

/**
 * Does the fresh plan still do what the saved plan said? Every change still to do must be in the
 * saved plan with the same before and after (changes already applied drop out of the fresh plan).
 */
export function compareToSaved(saved: VmPlan, fresh: VmPlan): { ok: true } | { ok: false; reason: string } {
  const savedBy = new Map(saved.changes.map((c) => [c.key, c]));
  const diffs: string[] = [];
  for (const c of fresh.changes) {
    const s = savedBy.get(c.key);
    if (!s) diffs.push(`${c.key} would now change too (${show(c.before)} → ${show(c.after)})`);
    else if (!sameConfigValue(c.key, s.after, c.after)) diffs.push(`${c.key} would now become ${show(c.after)} instead of ${show(s.after)}`);
    else if (!sameConfigValue(c.key, s.before, c.before)) diffs.push(`${c.key} is now ${show(c.before)} (plan: ${show(s.before)})`);
  }
  return diffs.length === 0 ? { ok: true } : { ok: false, reason: diffs.join('; ') };
}

function show(v: string | null): string {
  return v === null ? '(absent)' : `'${v}'`;
}

function blockedReason(fresh: VmPlan): string {
  return fresh.blocked.map((g) => `${g.code}: ${g.message}`).join('; ');
}

function wroteBefore(runner: Runner, vmid: number): boolean {
  return (runner.vmJournal(vmid)?.writes ?? []).some((w) => w.intent.purpose === 'apply' && w.outcome?.ok !== false);
}

async function applyDirect(ctx: VmContext, saved: VmPlan, first: LiveVm): Promise<VmResult> {
  const { runner, options } = ctx;
  const reboot: RebootPolicy = options.reboot;
  const base = { vmid: saved.vmid, node: saved.node };
  let live = first;
  let attempt = 0;
  const mismatches: string[] = [];
  for (;;) {
    const fresh = await replan(ctx, live);
    if (fresh.blocked.length > 0) return runner.finish({ ...base, result: 'skipped', reason: blockedReason(fresh) });
    const cmp = compareToSaved(saved, fresh);
    if (!cmp.ok) {
      return runner.finish({ ...base, result: 'failed', reason: `changed since the plan: ${cmp.reason}; nothing written, plan again` });
    }
    if (fresh.changes.length === 0) {
      return runner.finish(
        wroteBefore(runner, saved.vmid)
          ? { ...base, result: 'migrated', reason: 'done (earlier run)', digest: live.input.digest }
          : { ...base, result: 'skipped', reason: 'already in the target state' },
      );
    }
    const running = live.status === 'running';
    if (running && reboot === 'if-stopped') {
      // Written by an earlier run and pending: say so, or the admin thinks nothing was written.
      if (fresh.changes.every((c) => c.alreadyPending)) {
        return runner.finish({
          ...base,
          result: 'pending-reboot',
          reason: 'written earlier and pending; --reboot if-stopped does not reboot running VMs: a cold start or API reboot is needed',
          digest: live.input.digest,
        });
      }
      return runner.finish({ ...base, result: 'skipped', reason: 'running; --reboot if-stopped changes stopped VMs only' });
    }
    const shutdown = fresh.steps.find((s) => s.kind === 'shutdown');
    if (shutdown) {
      if (reboot !== 'now') {
        return runner.finish({ ...base, result: 'skipped', reason: 'a bus change needs the VM stopped: apply with --reboot now, or stop it first' });
      }
      runner.step(saved.vmid, 'shutting down for the bus change');
      const r = await runner.power(live, 'shutdown', shutdown.n);
      if (!r.ok) return runner.finish({ ...base, result: 'failed', reason: `${r.reason}; nothing written, the VM is as it was` });
      live = r.live;
      continue;
    }
    const write = fresh.steps.find((s) => s.kind === 'write');
    if (!write) break;
    attempt++;
    if (attempt > runner.opts.maxAttempts) {
      return runner.finish({
        ...base,
        result: 'failed',
        reason: `the config kept changing while writing (${mismatches.length} digest mismatches: ${mismatches.at(-1) ?? ''}); nothing written, plan again`,
      });
    }
    await runner.ensureBaseline(live);
    runner.step(saved.vmid, attempt === 1 ? 'writing' : `writing (attempt ${attempt})`);
    const w = await runner.write(live, requestOf(write), { step: saved.steps.find((s) => s.kind === 'write')?.n ?? write.n, purpose: 'apply', attempt });
    if (w.kind === 'failed') return runner.finish({ ...base, result: 'failed', reason: `write refused: ${w.reason}` });
    if (w.kind === 'mismatch') {
      mismatches.push(w.reason);
      live = await runner.target.readVm(saved.node!, saved.vmid, runner.opts.signal);
      const changed = changedSincePreview(ctx, saved, live);
      if (changed) return runner.finish({ ...base, result: 'skipped', reason: changed });
      continue;
    }
    live = w.live;
    break;
  }
  return finishAfterWrite(ctx, saved, live);
}

function requestOf(step: PlanStep): WriteRequest {
  const req: WriteRequest = { set: { ...(step.set ?? {}) }, delete: [...(step.delete ?? [])] };
  if (step.force) req.force = true;
  return req;
}

/** Final target values of a plan (key → value after, null = absent). */
function targetValues(changes: KeyChange[]): Map<string, string | null> {
  return new Map(changes.map((c) => [c.key, c.after]));
}

/** The new settings are in the current config and nothing of ours is pending. */
function verifyApplied(live: LiveVm, want: Map<string, string | null>): string | null {
  const off: string[] = [];
  for (const [k, v] of want) {
    const cur = live.input.current[k] ?? null;
    if (!sameConfigValue(k, cur, v)) off.push(`${k} is ${show(cur)}, expected ${show(v)}`);
    else if (isPending(live, k)) off.push(`${k} still pending`);
  }
  return off.length > 0 ? off.join('; ') : null;
}

async function finishAfterWrite(ctx: VmContext, saved: VmPlan, live: LiveVm): Promise<VmResult> {
  const { runner, options } = ctx;
  const base = { vmid: saved.vmid, node: saved.node };
  const want = targetValues(saved.changes);
  if (live.status !== 'running') {
    const off = verifyApplied(live, want);
    return runner.finish(
      off
        ? { ...base, result: 'failed', reason: `written, but not applied as planned: ${off}` }
        : { ...base, result: 'migrated', digest: live.input.digest },
    );
  }
  if (options.reboot !== 'now') {
    return runner.finish({
      ...base,
      result: 'pending-reboot',
      reason: 'changes are pending: a cold start or API reboot is needed (a reboot inside the guest is not enough)',
      digest: live.input.digest,
    });
  }
  const step = saved.steps.find((s) => s.kind === 'cold-start')?.n ?? 0;
  // When the change was already pending before this apply (nothing written), the baseline is
  // what lets rollback name what the reboot made run.
  await runner.ensureBaseline(live);
  runner.step(saved.vmid, live.ha.managed ? 'rebooting (through HA)' : 'rebooting');
  const r = await runner.power(live, 'reboot', step);
  if (!r.ok) {
    return runner.finish({
      ...base,
      result: 'failed',
      reason: r.reason.startsWith('not rebooted:')
        ? `${r.reason}; the VM keeps running its old settings and the change stays pending`
        : `${r.reason}; the VM keeps running its old settings and the change stays pending (stop and start it, or rollback)`,
    });
  }
  const off = verifyApplied(r.live, want);
  return runner.finish(
    off
      ? { ...base, result: 'failed', reason: `rebooted, but the new settings do not run: ${off}` }
      : { ...base, result: 'migrated', digest: r.live.input.digest },
  );
}

// --- Windows staged path ------------------------------------------------------------------

/**
 * Executes the saved staged steps in order. A step is skipped when done: writes by the journal
 * (or, for a write whose outcome was lost, by PVE showing its values), power steps by the VM's
 * state, the guest check by a journalled success or `--confirm-staged`.
 */
async function applyStaged(ctx: VmContext, saved: VmPlan, first: LiveVm): Promise<VmResult> {
  const { runner, options } = ctx;
  const base = { vmid: saved.vmid, node: saved.node };
  let live = first;
  const writeSteps = saved.steps.filter((s) => s.kind === 'write');
  const anyWriteDone = writeSteps.some((s) => writeStepDone(runner, saved.vmid, s, live));
  if (!anyWriteDone) {
    const fresh = await replan(ctx, live);
    if (fresh.blocked.length > 0) return runner.finish({ ...base, result: 'skipped', reason: blockedReason(fresh) });
    const cmp = compareToSaved(saved, fresh);
    if (!cmp.ok) return runner.finish({ ...base, result: 'failed', reason: `changed since the plan: ${cmp.reason}; plan again` });
    if (fresh.changes.length === 0) return runner.finish({ ...base, result: 'skipped', reason: 'already in the target state' });
  }
  if (options.reboot !== 'now') {
    return runner.finish({ ...base, result: 'skipped', reason: 'the staged path stops and starts the VM: apply with --reboot now' });
  }
  for (const step of saved.steps) {
    switch (step.kind) {
      case 'shutdown': {
        if (live.status === 'stopped') break;
        runner.step(saved.vmid, `step ${step.n}: ${step.description}`);
        const r = await runner.power(live, 'shutdown', step.n);
        if (!r.ok) return runner.finish({ ...base, result: 'failed', reason: `step ${step.n}: ${r.reason}` });
        live = r.live;
        break;
      }
      case 'cold-start': {
        if (live.status === 'running') break;
        runner.step(saved.vmid, `step ${step.n}: ${step.description}`);
        const r = await runner.power(live, 'start', step.n);
        if (!r.ok) return runner.finish({ ...base, result: 'failed', reason: `step ${step.n}: ${r.reason}` });
        live = r.live;
        break;
      }
      case 'verify-guest-disk': {
        if (runner.vmJournal(saved.vmid)?.verified.some((v) => v.step === step.n && v.ok)) break;
        if (options.confirmStaged?.includes(saved.vmid)) {
          await runner.record({ t: 'verify', vmid: saved.vmid, step: step.n, ok: true, detail: 'confirmed by the user (--confirm-staged)' });
          break;
        }
        runner.step(saved.vmid, `step ${step.n}: ${step.description}`);
        const seen = agentEnabled(live.input.current.agent) ? await waitForGuestDisk(runner, live, step.serial!) : 'unknown';
        if (seen === 'yes') {
          await runner.record({ t: 'verify', vmid: saved.vmid, step: step.n, ok: true, detail: `guest agent: disk ${step.serial} present` });
          break;
        }
        if (seen === 'no') {
          await runner.record({ t: 'verify', vmid: saved.vmid, step: step.n, ok: false, detail: `guest agent: no disk ${step.serial}` });
          return runner.finish({
            ...base,
            result: 'failed',
            reason: `step ${step.n}: Windows does not see the temporary VirtIO SCSI disk (vioscsi not installed?); the boot disk has not moved. Install the virtio-win drivers and run apply again, or rollback`,
          });
        }
        const why =
          seen === 'forbidden'
            ? `the token may not run the guest-agent check (agent/exec needs VM.GuestAgent.Unrestricted on /vms/${saved.vmid}; VM.Monitor on PVE 8)`
            : 'no guest agent answer';
        return runner.finish({
          ...base,
          result: 'awaiting-confirmation',
          reason: `step ${step.n}: ${why}; check Device Manager for the disk with serial ${step.serial}, then run apply again with --confirm-staged ${saved.vmid}`,
        });
      }
      case 'write': {
        if (writeStepDone(runner, saved.vmid, step, live)) break;
        const r = await stagedWrite(ctx, saved, step, live);
        if ('result' in r) return r.result;
        live = r.live;
        break;
      }
    }
  }
  const off = verifyApplied(live, targetValues(saved.changes));
  return runner.finish(
    off
      ? { ...base, result: 'failed', reason: `staged path finished, but not as planned: ${off}` }
      : { ...base, result: 'migrated', digest: live.input.digest },
  );
}

function writeStepDone(runner: Runner, vmid: number, step: PlanStep, live: LiveVm): boolean {
  const writes = (runner.vmJournal(vmid)?.writes ?? []).filter((w) => w.intent.purpose === 'apply' && w.intent.step === step.n);
  if (writes.some((w) => w.outcome?.ok === true)) return true;
  // Intent without outcome: the process died while the write was in flight.
  if (writes.some((w) => w.outcome === null)) return writeLanded(live, requestOf(step), step.allocates ?? []);
  return false;
}

/**
 * The value a staged write expects each of its keys to have now: what the last journalled write
 * left there, else the baseline. Anything else is someone else's change.
 */
function expectedNow(runner: Runner, vmid: number, key: string): string | null {
  const j = runner.vmJournal(vmid);
  for (const w of [...(j?.writes ?? [])].reverse()) {
    if (w.intent.purpose === 'apply' && w.outcome?.ok && w.outcome.values && key in w.outcome.values) return w.outcome.values[key]!;
  }
  return j?.baseline?.current[key] ?? null;
}

async function stagedWrite(
  ctx: VmContext,
  saved: VmPlan,
  step: PlanStep,
  first: LiveVm,
): Promise<{ live: LiveVm } | { result: VmResult }> {
  const { runner } = ctx;
  const base = { vmid: saved.vmid, node: saved.node };
  const req = requestOf(step);
  let live = first;
  for (let attempt = 1; attempt <= runner.opts.maxAttempts; attempt++) {
    const keys = [...Object.keys(req.set), ...req.delete];
    const foreign = foreignPending(live, keys);
    if (foreign.length > 0) {
      return { result: await runner.finish({ ...base, result: 'failed', reason: `step ${step.n}: pending changes that are not ours: ${foreign.join(', ')}` }) };
    }
    if (runner.vmJournal(saved.vmid)?.baseline) {
      const moved = keys
        .filter((k) => !(step.allocates ?? []).includes(k))
        .filter((k) => !sameConfigValue(k, nextValue(live, k), expectedNow(runner, saved.vmid, k)));
      if (moved.length > 0) {
        return {
          result: await runner.finish({
            ...base,
            result: 'failed',
            reason: `step ${step.n}: changed by someone else since the previous step: ${moved.map((k) => `${k} is ${show(nextValue(live, k))}`).join('; ')}`,
          }),
        };
      }
    }
    await runner.ensureBaseline(live);
    runner.step(saved.vmid, `step ${step.n}: ${step.description}`);
    const w = await runner.write(live, req, { step: step.n, purpose: 'apply', attempt, allocates: step.allocates ?? [] });
    if (w.kind === 'ok') return { live: w.live };
    if (w.kind === 'failed') return { result: await runner.finish({ ...base, result: 'failed', reason: `step ${step.n}: write refused: ${w.reason}` }) };
    live = await runner.target.readVm(saved.node!, saved.vmid, runner.opts.signal);
  }
  return { result: await runner.finish({ ...base, result: 'failed', reason: `step ${step.n}: the config kept changing while writing; run apply again` }) };
}

async function waitForGuestDisk(runner: Runner, live: LiveVm, serial: string): Promise<GuestDiskCheck> {
  const deadline = Date.now() + runner.opts.agentWaitMs;
  let last: GuestDiskCheck = 'unknown';
  for (;;) {
    last = await runner.target.guestSeesDisk(live.input.node!, live.input.vmid, serial, runner.opts.signal);
    // `no` right after boot can mean Windows is still enumerating: ask again until the deadline.
    // A 403 will not change by waiting.
    if (last === 'yes' || last === 'forbidden' || Date.now() >= deadline) return last;
    await runner.target.sleep(runner.opts.pollMs, runner.opts.signal);
  }
}
