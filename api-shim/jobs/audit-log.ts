// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The audit log of writes (`audit.jsonl` in the state directory, 0600): one JSON line when a
 * config write or power action is sent to PVE and one when its outcome is known, naming who
 * (token id or login user), the job, the VM and node, and the config digest before and after.
 * Lines are built from the job's journal entries as they reach the disk, so the log and the
 * journal never disagree; the journal entry's append waits for its audit line to be on disk, so
 * no action goes out before its line is written.
 */
import { JsonlAppender } from '../../src/node/jsonl-appender.js';
import type { JournalEntry, PowerAction } from '../../src/migration/journal-model.js';

export interface AuditLine {
  ts: string;
  who: string;
  job: string;
  vmid: number;
  node: string | null;
  /** `config` for a config write, else the power action. */
  action: 'config' | PowerAction;
  /** `apply` or `rollback`. */
  purpose: 'apply' | 'rollback';
  phase: 'sent' | 'done';
  digestBefore: string | null;
  digestAfter: string | null;
  /** `ok` / `failed` once done; null when sent. */
  outcome: 'ok' | 'failed' | null;
  error?: string;
  /** Keys the write set, deleted or reverted. */
  keys?: string[];
}

export class AuditLog {
  private file: JsonlAppender | null = null;

  /** Opened at the first line (its directory exists by then). */
  constructor(readonly path: string) {}

  /** Resolves once the line is on disk. */
  append(line: AuditLine): Promise<void> {
    this.file ??= JsonlAppender.open(this.path);
    return this.file.append(JSON.stringify(line));
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = null;
  }
}

/**
 * Turns a job's journal entries into audit lines: `line(entry)` returns the line an entry makes
 * (or null: baselines, results). Keeps the open intents to pair outcomes with node and digest.
 */
export class AuditTrail {
  private readonly writes = new Map<string, { node: string; digest: string; purpose: 'apply' | 'rollback'; keys: string[] }>();
  private readonly power = new Map<string, { node: string; purpose: 'apply' | 'rollback' }>();
  private purpose: 'apply' | 'rollback' = 'apply';

  constructor(
    private readonly who: string,
    private readonly job: string,
    private readonly lastDigest: (vmid: number) => string | null,
  ) {}

  line(e: JournalEntry): AuditLine | null {
    const base = { ts: e.ts, who: this.who, job: this.job };
    switch (e.t) {
      case 'run':
        this.purpose = e.kind;
        return null;
      case 'write': {
        const keys = [...new Set([...Object.keys(e.set), ...e.delete, ...(e.revert ?? [])])];
        this.writes.set(`${e.run}/${e.vmid}/${e.step}`, { node: e.node, digest: e.digest, purpose: e.purpose, keys });
        return { ...base, vmid: e.vmid, node: e.node, action: 'config', purpose: e.purpose, phase: 'sent', digestBefore: e.digest, digestAfter: null, outcome: null, keys };
      }
      case 'write-done': {
        const w = this.writes.get(`${e.run}/${e.vmid}/${e.step}`);
        const line: AuditLine = {
          ...base,
          vmid: e.vmid,
          node: w?.node ?? null,
          action: 'config',
          purpose: w?.purpose ?? this.purpose,
          phase: 'done',
          digestBefore: w?.digest ?? null,
          digestAfter: e.ok ? (e.digest ?? null) : null,
          outcome: e.ok ? 'ok' : 'failed',
        };
        if (w) line.keys = w.keys;
        if (e.error) line.error = e.error;
        return line;
      }
      case 'power':
        this.power.set(`${e.run}/${e.vmid}/${e.action}`, { node: e.node, purpose: this.purpose });
        return { ...base, vmid: e.vmid, node: e.node, action: e.action, purpose: this.purpose, phase: 'sent', digestBefore: this.lastDigest(e.vmid), digestAfter: null, outcome: null };
      case 'power-done': {
        const p = this.power.get(`${e.run}/${e.vmid}/${e.action}`);
        const line: AuditLine = {
          ...base,
          vmid: e.vmid,
          node: p?.node ?? null,
          action: e.action,
          purpose: p?.purpose ?? this.purpose,
          phase: 'done',
          digestBefore: this.lastDigest(e.vmid),
          digestAfter: null,
          outcome: e.ok ? 'ok' : 'failed',
        };
        if (e.error) line.error = e.error;
        return line;
      }
      default:
        return null;
    }
  }
}
