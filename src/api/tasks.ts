// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Following a PVE task (UPID) to its end. PVE's task exit status is `OK`, `WARNINGS: n` (a
 * success with warnings, e.g. `WARN: iothread is only valid with virtio disk or virtio-scsi-single
 * controller, ignoring` at VM start) or the error text (docs/how-qemu-server-decides.md#api).
 */
import type { PveClient } from './client.js';
import { type TaskStatus, fetchTaskLog, fetchTaskStatus, parseUpid } from './endpoints/tasks.js';
import { PveConnectionError, PveTaskError, errorClassForText } from './errors.js';

export interface WaitForTaskOptions {
  signal?: AbortSignal;
  /** Poll interval in ms. Default 1000 (PVE's own UI polls once a second). */
  pollMs?: number;
  /** Give up after this many ms (the task keeps running on PVE). Default: no limit. */
  timeoutMs?: number;
  /** Log lines kept for a failed or warning task. Default 20. */
  logLines?: number;
  /** Called with every status read (progress display). */
  onStatus?: (status: TaskStatus) => void;
}

export interface TaskResult {
  upid: string;
  /** `OK` or `WARNINGS: n`. */
  exitStatus: string;
  /** Number of warnings (0 for `OK`). */
  warnings: number;
  /** The `WARN: ...` lines of the log (only read when warnings > 0). */
  warningLines: string[];
  status: TaskStatus;
}

/**
 * Polls `GET /nodes/{node}/tasks/{upid}/status` (node taken from the UPID) until the task stops.
 * @returns the result for `OK` and `WARNINGS: n`
 * @throws PveDigestMismatchError / PveLockedError / PveNotFoundError when the exit status is one
 *   of those texts, else PveTaskError; each carries `task` = {upid, exitStatus, logTail}
 */
export async function waitForTask(client: PveClient, upid: string, options: WaitForTaskOptions = {}): Promise<TaskResult> {
  const parsed = parseUpid(upid);
  if (!parsed) throw new Error(`not a PVE task id (UPID): ${JSON.stringify(upid)}`);
  const { node } = parsed;
  const pollMs = options.pollMs ?? 1000;
  const logLines = options.logLines ?? 20;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const path = `/nodes/${node}/tasks/${upid}/status`;

  for (;;) {
    const status = await fetchTaskStatus(client, node, upid, { signal: options.signal });
    options.onStatus?.(status);
    if (status.status !== 'running') {
      const exit = status.exitstatus ?? 'unknown';
      const warn = /^WARNINGS: (\d+)$/.exec(exit);
      if (exit === 'OK' || warn) {
        const warnings = warn ? Number(warn[1]) : 0;
        const warningLines =
          warnings > 0 ? (await readLogTail(client, node, upid, 500, options.signal)).filter((l) => /^WARN: /.test(l)) : [];
        return { upid, exitStatus: exit, warnings, warningLines, status };
      }
      const logTail = await readLogTail(client, node, upid, logLines, options.signal);
      const Cls = errorClassForText(exit) ?? PveTaskError;
      throw new Cls({
        status: 0,
        text: `task ${parsed.type} ${parsed.id} on ${node} failed: ${exit}`,
        method: 'GET',
        path,
        task: { upid, exitStatus: exit, logTail },
      });
    }
    if (Date.now() + pollMs > deadline) {
      throw new PveConnectionError({
        status: 0,
        text: `task ${parsed.type} ${parsed.id} on ${node} still running after ${options.timeoutMs} ms (${upid})`,
        method: 'GET',
        path,
        kind: 'timeout',
        maybeSent: true,
      });
    }
    await delay(pollMs, options.signal, path);
  }
}

/** Last `n` log lines (empty when the log cannot be read: reading it needs ownership or Sys.Audit). */
async function readLogTail(
  client: PveClient,
  node: string,
  upid: string,
  n: number,
  signal?: AbortSignal,
): Promise<string[]> {
  try {
    const head = await fetchTaskLog(client, node, upid, { start: 0, limit: 1 }, { signal });
    const total = head.total ?? head.lines.length;
    if (total <= 1) return head.lines.map((l) => l.t);
    const start = Math.max(0, total - n);
    const tail = await fetchTaskLog(client, node, upid, { start, limit: n }, { signal });
    return tail.lines.map((l) => l.t);
  } catch (err) {
    if (signal?.aborted) throw err;
    return [];
  }
}

function delay(ms: number, signal: AbortSignal | undefined, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(path));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(path));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function aborted(path: string): PveConnectionError {
  return new PveConnectionError({ status: 0, text: 'Request aborted', method: 'GET', path, kind: 'aborted', maybeSent: false });
}
