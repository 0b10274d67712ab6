// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The parts `apply` and `rollback` share: journalled writes and power actions, waiting for a VM
 * state, and the run summary. Every PVE write and power action is preceded by a journal intent
 * that is on disk before the request leaves, and followed by its outcome.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { nextStartFailures } from '../analysis/risk/aio.js';
import { PveConnectionError, PveDigestMismatchError, PveLockedError, PveParamError, PvePermissionError } from '../api/errors.js';
import {
  replayJournal,
  type JournalEntry,
  type NewEntry,
  type PowerAction,
  type RebootPolicy,
  type VmJournal,
  type VmOutcome,
  JOURNAL_VERSION,
} from './journal-model.js';
import { parseUpid } from '../pve/upid.js';
import { sameConfigValue } from './config-keys.js';
import type { LiveVm, MigrationTarget, WriteRequest } from './target.js';

/** Where the engines write the journal (the Node JSONL file, or memory in tests). */
export interface JournalWriter {
  readonly run: string;
  append(entry: NewEntry): Promise<void>;
}

export interface EngineOptions {
  reboot: RebootPolicy;
  /** VMs worked on at once (default 4). */
  concurrency?: number;
  /** Write attempts per VM when the digest keeps changing (default 4). */
  maxAttempts?: number;
  /** Shutdown timeout PVE applies for reboot/shutdown, seconds (default: PVE's, 60 s or `startup down=`). */
  shutdownTimeoutSec?: number;
  /** How long to wait for a VM to stop / come back, ms (default 600 000). */
  powerTimeoutMs?: number;
  /** Poll interval for VM state and tasks, ms (default 1000). */
  pollMs?: number;
  /** How long the guest agent gets to answer after a start, ms (default 300 000). */
  agentWaitMs?: number;
  /** After a crash during a reboot: how long to let PVE finish its own restart, ms (default 60 000). */
  restartGraceMs?: number;
  /** Only these VMs. */
  vmids?: number[];
  /**
   * VMs to reboot or start even when their config cannot start (`--force-reboot`): by default the
   * engine refuses to restart a VM into a config QEMU refuses (see `nextStartFailures`).
   */
  forceReboot?: number[];
  /**
   * Power actions (reboot, start, shutdown) at once per node, each held from its request until
   * the VM reached the promised state (default: no limit beyond `concurrency`).
   */
  powerPerNode?: number;
  /**
   * Asked before a VM is started: a reason (cancelled, the wave stopped) skips it with that
   * reason, nothing read or written; VMs already in flight finish. Default: start every VM.
   */
  beforeVm?: (vmid: number) => string | null;
  signal?: AbortSignal;
  onEvent?: (e: EngineEvent) => void;
}

export interface VmResult {
  vmid: number;
  node: string | null;
  result: VmOutcome;
  reason?: string;
  digest?: string;
}

export type EngineEvent =
  | { type: 'start'; total: number }
  | { type: 'vm-step'; vmid: number; message: string }
  | { type: 'vm-done'; result: VmResult };

export interface RunSummary {
  run: string;
  results: VmResult[];
  counts: Partial<Record<VmOutcome, number>>;
}

export type WriteResult =
  | { kind: 'ok'; live: LiveVm }
  | { kind: 'mismatch'; reason: string }
  | { kind: 'failed'; reason: string };

export type PowerResult = { ok: true; live: LiveVm } | { ok: false; reason: string };

const DEFAULTS = {
  concurrency: 4,
  maxAttempts: 4,
  powerTimeoutMs: 600_000,
  pollMs: 1000,
  agentWaitMs: 300_000,
  restartGraceMs: 60_000,
};

/** Value a key has after the next cold start (pending applied); null when absent or deleted. */
export function nextValue(live: LiveVm, key: string): string | null {
  if (key in live.input.pending) return live.input.pending[key]!;
  if (live.input.deletes.some((d) => d.key === key)) return null;
  return live.input.current[key] ?? null;
}

/** True when PVE has any pending change for `key`. */
export function isPending(live: LiveVm, key: string): boolean {
  return key in live.input.pending || live.input.deletes.some((d) => d.key === key);
}

/** Pending changes of keys outside `ours` (`digest` is not a key). */
export function foreignPending(live: LiveVm, ours: Iterable<string>): string[] {
  const own = new Set(ours);
  return [
    ...Object.keys(live.input.pending).filter((k) => k !== 'digest' && !own.has(k)),
    ...live.input.deletes.filter((d) => !own.has(d.key)).map((d) => `delete ${d.key}`),
  ];
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function errorCode(err: unknown): string {
  if (err instanceof PveDigestMismatchError) return 'digest-mismatch';
  if (err instanceof PveLockedError) return 'locked';
  if (err instanceof PvePermissionError) return 'permission';
  if (err instanceof PveParamError) return 'param';
  if (err instanceof PveConnectionError) return 'connection';
  return 'error';
}

type OptionalEngineKeys = 'shutdownTimeoutSec' | 'vmids' | 'signal' | 'onEvent' | 'powerPerNode' | 'beforeVm';

/** One apply or rollback run: journal, target and options. */
export class Runner {
  readonly opts: Required<Omit<EngineOptions, OptionalEngineKeys>> & Pick<EngineOptions, OptionalEngineKeys>;
  private readonly entries: JournalEntry[];
  /** The entries of each VM (a VM's replay reads only its own): `vmJournal` stays O(that VM's entries). */
  private readonly byVm = new Map<number, JournalEntry[]>();
  private readonly powerSlots = new Map<string, LimitFunction>();

  constructor(
    readonly target: MigrationTarget,
    readonly journal: JournalWriter,
    prior: JournalEntry[],
    options: EngineOptions,
  ) {
    this.entries = [];
    for (const e of prior) this.keep(e);
    this.opts = { ...DEFAULTS, ...options } as Runner['opts'];
  }

  private keep(e: JournalEntry): void {
    this.entries.push(e);
    if ('vmid' in e && typeof e.vmid === 'number') {
      const list = this.byVm.get(e.vmid);
      if (list) list.push(e);
      else this.byVm.set(e.vmid, [e]);
    }
  }

  get run(): string {
    return this.journal.run;
  }

  /** Append to the journal (on disk first), and to the in-memory view. */
  async record(entry: NewEntry): Promise<void> {
    this.checkAbort();
    await this.journal.append(entry);
    this.keep({ v: JOURNAL_VERSION, ts: new Date().toISOString(), run: this.run, ...entry } as JournalEntry);
  }

  /** Everything this journal knows about a VM (earlier runs and this one). */
  vmJournal(vmid: number): VmJournal | undefined {
    return replayJournal(this.byVm.get(vmid) ?? []).get(vmid);
  }

  allEntries(): readonly JournalEntry[] {
    return this.entries;
  }

  step(vmid: number, message: string): void {
    this.opts.onEvent?.({ type: 'vm-step', vmid, message });
  }

  checkAbort(): void {
    if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? new Error('aborted');
  }

  /** Record the VM as first seen, once per journal, before the first write. */
  async ensureBaseline(live: LiveVm): Promise<void> {
    if (this.vmJournal(live.input.vmid)?.baseline) return;
    await this.record({
      t: 'baseline',
      vmid: live.input.vmid,
      node: live.input.node!,
      digest: live.input.digest,
      status: live.status,
      current: live.input.current,
      pending: live.input.pending,
      deletes: live.input.deletes,
    });
  }

  /**
   * One journalled, digest-guarded write. A digest mismatch (PVE refused: someone else changed
   * the config) is returned as `mismatch` for the caller to re-read and re-plan. When the answer
   * is lost, the VM is re-read: the write counts as done only when its values are there.
   */
  async write(
    live: LiveVm,
    req: WriteRequest,
    ctx: { step: number; purpose: 'apply' | 'rollback'; attempt: number; allocates?: string[] },
  ): Promise<WriteResult> {
    const { vmid } = live.input;
    const node = live.input.node!;
    const keys = [...new Set([...Object.keys(req.set), ...req.delete, ...(req.revert ?? [])])];
    const previous: Record<string, string | null> = {};
    const previousPending: Record<string, string | null> = {};
    for (const k of keys) {
      previous[k] = live.input.current[k] ?? null;
      previousPending[k] = live.input.pending[k] ?? null;
    }
    const intent: NewEntry = {
      t: 'write',
      vmid,
      node,
      step: ctx.step,
      purpose: ctx.purpose,
      digest: live.input.digest,
      previous,
      previousPending,
      set: req.set,
      delete: req.delete,
      attempt: ctx.attempt,
    };
    if (req.revert && req.revert.length > 0) intent.revert = req.revert;
    if (req.force) intent.force = true;
    if (ctx.allocates && ctx.allocates.length > 0) intent.allocates = ctx.allocates;
    await this.record(intent);
    let upid: string | null = null;
    try {
      upid = await this.target.writeConfig(node, vmid, req, live.input.digest, this.opts.signal);
    } catch (err) {
      this.checkAbort();
      if (err instanceof PveDigestMismatchError) {
        await this.record({ t: 'write-done', vmid, step: ctx.step, ok: false, code: 'digest-mismatch', error: describe(err) });
        return { kind: 'mismatch', reason: describe(err) };
      }
      // A lost answer (or a task we could not follow): the write may or may not have landed.
      const unknown = err instanceof PveConnectionError && err.maybeSent;
      if (!unknown) {
        await this.record({ t: 'write-done', vmid, step: ctx.step, ok: false, code: errorCode(err), error: describe(err) });
        return { kind: 'failed', reason: describe(err) };
      }
      const now = await this.target.readVm(node, vmid, this.opts.signal);
      if (writeLanded(now, req, ctx.allocates ?? [])) {
        return this.writeDone(now, keys, ctx.step, null);
      }
      await this.record({ t: 'write-done', vmid, step: ctx.step, ok: false, code: 'digest-mismatch', error: `answer lost (${describe(err)}); not applied` });
      return { kind: 'mismatch', reason: describe(err) };
    }
    const after = await this.target.readVm(node, vmid, this.opts.signal);
    return this.writeDone(after, keys, ctx.step, upid);
  }

  private async writeDone(after: LiveVm, keys: string[], step: number, upid: string | null): Promise<WriteResult> {
    const values: Record<string, string | null> = {};
    for (const k of keys) values[k] = nextValue(after, k);
    const done: NewEntry = { t: 'write-done', vmid: after.input.vmid, step, ok: true, digest: after.input.digest, values };
    if (upid) done.upid = upid;
    await this.record(done);
    return { kind: 'ok', live: after };
  }

  /**
   * A journalled power action, followed to the state it promises: `reboot` and `start` end with
   * the VM running (and, HA-managed, the HA state `started`) with nothing pending; `shutdown`
   * and `stop` end with it stopped. The reboot's restart is a separate task (docs/how-qemu-server-decides.md#pending), so
   * the VM state is polled, never just the task.
   */
  async power(live: LiveVm, action: PowerAction, step: number): Promise<PowerResult> {
    const refused = this.cannotStart(live, action);
    if (refused) return { ok: false, reason: refused };
    const per = this.opts.powerPerNode;
    if (!per) return this.powerNow(live, action, step);
    const node = live.input.node!;
    let slot = this.powerSlots.get(node);
    if (!slot) this.powerSlots.set(node, (slot = pLimit(per)));
    return slot(() => this.powerNow(live, action, step));
  }

  /**
   * Why a reboot or start of this VM would leave it stopped: the config it starts with is one QEMU
   * refuses (aio=native with a cache without O_DIRECT, ...). Null for other actions, a config that
   * can start, or a VM named in `forceReboot`. Nothing is journalled: no power action is sent.
   */
  private cannotStart(live: LiveVm, action: PowerAction): string | null {
    if (action !== 'reboot' && action !== 'start') return null;
    const vmid = live.input.vmid;
    if (this.opts.forceReboot?.includes(vmid)) return null;
    const failures = nextStartFailures(this.target.analyze(live));
    if (failures.length === 0) return null;
    const verb = action === 'reboot' ? 'rebooted' : 'started';
    return (
      `not ${verb}: QEMU would refuse the config it starts with (${failures.map((f) => f.message.replace(/, so the .*$/, '')).join('; ')}), ` +
      `so the VM would stay stopped; fix it (${failures.map((f) => f.fix.replace(/\.$/, '')).join('; ')}) and cold start it from PVE, ` +
      `or re-run with --force-reboot ${vmid}`
    );
  }

  /**
   * Skips a VM before it starts when `beforeVm` gives a reason; else runs `work`.
   */
  async startVm(vmid: number, node: string | null, work: () => Promise<VmResult>): Promise<VmResult> {
    const reason = this.opts.beforeVm?.(vmid) ?? null;
    return reason ? this.finish({ vmid, node, result: 'skipped', reason }) : work();
  }

  private async powerNow(live: LiveVm, action: PowerAction, step: number): Promise<PowerResult> {
    const { vmid } = live.input;
    const node = live.input.node!;
    const ha = live.ha.managed;
    await this.record({ t: 'power', vmid, node, action, ha, step });
    const fail = async (reason: string, upid?: string): Promise<PowerResult> => {
      const e: NewEntry = { t: 'power-done', vmid, action, ok: false, error: reason };
      if (upid) e.upid = upid;
      await this.record(e);
      return { ok: false, reason };
    };
    let upid: string;
    try {
      const timeoutSec = action === 'reboot' || action === 'shutdown' ? this.opts.shutdownTimeoutSec : undefined;
      upid = await this.target.power(node, vmid, action, timeoutSec !== undefined ? { timeoutSec } : {}, this.opts.signal);
    } catch (err) {
      this.checkAbort();
      return fail(`${action} refused: ${describe(err)}`);
    }
    try {
      await this.target.waitTask(upid, { timeoutMs: this.opts.powerTimeoutMs, signal: this.opts.signal });
    } catch (err) {
      this.checkAbort();
      return fail(`${action} task failed: ${describe(err)}`, upid);
    }
    const wantRunning = action === 'reboot' || action === 'start';
    // The reboot's restart is a separate start task: when it fails (QEMU refuses the config),
    // the VM stays stopped and only that task says why, so look for it instead of polling on.
    const since = parseUpid(upid)?.starttime;
    const failedStart =
      action === 'reboot' && since !== undefined && this.target.failedStartSince
        ? (v: LiveVm): Promise<string | null> =>
            v.status === 'stopped' ? this.target.failedStartSince!(node, vmid, since, this.opts.signal) : Promise.resolve(null)
        : undefined;
    const reached = await this.waitFor(
      live,
      (v) =>
        wantRunning
          ? v.status === 'running' && (!ha || v.ha.state === null || v.ha.state === 'started') && noPending(v)
          : v.status === 'stopped',
      this.opts.powerTimeoutMs,
      failedStart,
    );
    if (reached.failure) {
      return fail(`the VM shut down but the start after the ${action} failed: ${reached.failure}; it is stopped now (start it by hand once the config is fixed)`, upid);
    }
    if (!reached.ok) {
      return fail(
        wantRunning
          ? `the VM did not come back running within ${Math.round(this.opts.powerTimeoutMs / 1000)} s after the ${action}${ha ? ' (HA-managed: check ha-manager status)' : ''}`
          : `the VM did not stop within ${Math.round(this.opts.powerTimeoutMs / 1000)} s`,
        upid,
      );
    }
    await this.record({ t: 'power-done', vmid, action, ok: true, upid });
    return { ok: true, live: reached.live };
  }

  /** Poll the VM until `pred` holds, `failure` names a reason to stop waiting, or the timeout. */
  async waitFor(
    live: LiveVm,
    pred: (v: LiveVm) => boolean,
    timeoutMs = this.opts.powerTimeoutMs,
    failure?: (v: LiveVm) => Promise<string | null>,
  ): Promise<{ ok: boolean; live: LiveVm; failure?: string }> {
    const deadline = Date.now() + timeoutMs;
    let v = live;
    for (;;) {
      v = await this.target.readVm(live.input.node!, live.input.vmid, this.opts.signal);
      if (pred(v)) return { ok: true, live: v };
      const why = failure ? await failure(v) : null;
      if (why) return { ok: false, live: v, failure: why };
      if (Date.now() >= deadline) return { ok: false, live: v };
      await this.target.sleep(this.opts.pollMs, this.opts.signal);
    }
  }

  /**
   * After a crash during a reboot/start of an earlier run: if the VM is stopped, give PVE time to
   * finish its own restart, then (policy `now`) start it ourselves. Returns the VM as it is then.
   */
  async settleInterruptedPower(live: LiveVm): Promise<LiveVm> {
    const j = this.vmJournal(live.input.vmid);
    const open = j?.power.filter((p) => !p.outcome && p.intent.run !== this.run).at(-1);
    if (!open || live.status !== 'stopped') return live;
    if (open.intent.action !== 'reboot' && open.intent.action !== 'start') return live;
    this.step(live.input.vmid, `waiting for the ${open.intent.action} interrupted earlier to finish`);
    const back = await this.waitFor(live, (v) => v.status === 'running', this.opts.restartGraceMs);
    if (back.ok || this.opts.reboot !== 'now') return back.live;
    const started = await this.power(back.live, 'start', open.intent.step);
    return started.ok ? started.live : back.live;
  }

  /** Report a VM's result: journal entry + event. */
  async finish(r: VmResult): Promise<VmResult> {
    const e: NewEntry = { t: 'vm', vmid: r.vmid, node: r.node, result: r.result };
    if (r.reason) e.reason = r.reason;
    if (r.digest) e.digest = r.digest;
    await this.record(e);
    this.opts.onEvent?.({ type: 'vm-done', result: r });
    return r;
  }

  async end(results: VmResult[]): Promise<RunSummary> {
    const counts: Partial<Record<VmOutcome, number>> = {};
    for (const r of results) counts[r.result] = (counts[r.result] ?? 0) + 1;
    await this.record({ t: 'end', counts });
    return { run: this.run, results, counts };
  }
}

/** Nothing pending at all (foreign pending changes are gated before any write). */
export function noPending(v: LiveVm): boolean {
  return Object.keys(v.input.pending).filter((k) => k !== 'digest').length === 0 && v.input.deletes.length === 0;
}

/**
 * The write's values are in place (current or pending). Allocated keys (`STORAGE:1`) get a
 * real volume id from PVE, so only their presence counts.
 */
export function writeLanded(v: LiveVm, req: WriteRequest, allocates: string[]): boolean {
  for (const [k, val] of Object.entries(req.set)) {
    const now = nextValue(v, k);
    if (allocates.includes(k) ? now === null : !sameConfigValue(k, now, val)) return false;
  }
  for (const k of req.delete) if (nextValue(v, k) !== null) return false;
  for (const k of req.revert ?? []) if (isPending(v, k)) return false;
  return true;
}
