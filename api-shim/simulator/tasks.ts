// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Worker tasks as PVE runs them: a UPID per task, a log of `{n, t}` lines ending in `TASK OK`,
 * `TASK WARNINGS: n` or `TASK ERROR: <text>`, and a status that reads `running` until the task
 * ends (docs/how-qemu-server-decides.md#api).
 */
import type { SimClock } from './clock.js';
import { printUpid } from '../../src/pve/upid.js';

export interface SimTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  /** Epoch seconds. */
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  /** `OK`, `WARNINGS: n` or the error text; set when stopped. */
  exitstatus?: string;
  /** Epoch seconds; set when stopped. */
  endtime?: number;
  log: string[];
  warnings: number;
  /** Resolves when the task has ended (never rejects). */
  done: Promise<void>;
}

/** What a task body can do while it runs. */
export interface TaskContext {
  readonly task: SimTask;
  log(line: string): void;
  /** Logs `WARN: <text>`; the task then ends with `WARNINGS: n` instead of `OK`. */
  warn(text: string): void;
}

/** All tasks of the simulated cluster. */
export class TaskRegistry {
  private readonly tasks = new Map<string, SimTask>();
  private readonly order: SimTask[] = [];
  /** Tasks per node, in start order (node task lists stay O(tasks of the node)). */
  private readonly byNode = new Map<string, SimTask[]>();
  private nextPid: number;
  /** Called for every task start and end (the node syslog records both). */
  onEvent?: (task: SimTask, event: 'start' | 'end') => void;

  constructor(
    private readonly clock: SimClock,
    firstPid: number,
    private readonly bootTime: number,
  ) {
    this.nextPid = firstPid;
  }

  /**
   * Starts a worker task; `body` runs on a later event-loop turn. A throw ends the task with the
   * error text as exit status (only its last line, as PVE reads the status from the log's end).
   */
  start(node: string, type: string, id: string, user: string, body: (ctx: TaskContext) => Promise<void>): SimTask {
    const pid = this.nextPid++;
    const now = this.clock.nowSec();
    // pstart is the process start in clock ticks since boot (USER_HZ = 100).
    const pstart = Math.max(1, (now - this.bootTime) * 100 + (pid % 100));
    const base = { node, pid, pstart, starttime: now, type, id, user };
    let resolveDone!: () => void;
    const task: SimTask = {
      ...base,
      upid: printUpid(base),
      status: 'running',
      log: [],
      warnings: 0,
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    this.tasks.set(task.upid, task);
    this.order.push(task);
    const ofNode = this.byNode.get(node);
    if (ofNode) ofNode.push(task);
    else this.byNode.set(node, [task]);
    this.onEvent?.(task, 'start');
    const ctx: TaskContext = {
      task,
      log: (line) => task.log.push(...line.split('\n')),
      warn: (text) => {
        task.warnings++;
        task.log.push(`WARN: ${text}`);
      },
    };
    const finish = (exit: string, lastLine: string) => {
      task.log.push(lastLine);
      task.exitstatus = exit;
      task.endtime = this.clock.nowSec();
      task.status = 'stopped';
      this.onEvent?.(task, 'end');
      resolveDone();
    };
    setImmediate(() => {
      body(ctx).then(
        () => (task.warnings > 0 ? finish(`WARNINGS: ${task.warnings}`, `TASK WARNINGS: ${task.warnings}`) : finish('OK', 'TASK OK')),
        (err: unknown) => {
          const text = (err instanceof Error ? err.message : String(err)).replace(/\n+$/, '');
          const lines = text.split('\n');
          finish(lines[lines.length - 1]!, `TASK ERROR: ${text}`);
        },
      );
    });
    return task;
  }

  get(upid: string): SimTask | undefined {
    return this.tasks.get(upid);
  }

  /** Tasks of a node, newest first. */
  list(node: string): SimTask[] {
    return [...(this.byNode.get(node) ?? [])].reverse();
  }

  /**
   * The cluster's task list (pmxcfs `tasklist`, what `/cluster/tasks` reads): per node the running
   * tasks and the most recent ones, at most `perNode`, newest first overall.
   */
  recent(perNode: number): SimTask[] {
    const out: SimTask[] = [];
    for (const tasks of this.byNode.values()) {
      for (let i = tasks.length - 1, n = 0; i >= 0 && n < perNode; i--, n++) out.push(tasks[i]!);
    }
    return out.sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  }

  /** Every task, in start order (tests inspect this). */
  all(): readonly SimTask[] {
    return this.order;
  }

  /** Resolves when every task started so far has ended. */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.order.filter((t) => t.status === 'running');
      if (running.length === 0) return;
      await Promise.all(running.map((t) => t.done));
    }
  }
}

/** The `/tasks/{upid}/status` object (no endtime there; docs/how-qemu-server-decides.md#api). */
export function taskStatusView(t: SimTask): Record<string, unknown> {
  const out: Record<string, unknown> = {
    upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime,
    type: t.type, id: t.id, user: t.user, status: t.status,
  };
  if (t.status === 'stopped') out.exitstatus = t.exitstatus;
  return out;
}

/** A `/nodes/{n}/tasks` list entry (finished tasks carry the exit text in `status`, plus endtime). */
export function taskListView(t: SimTask): Record<string, unknown> {
  const out: Record<string, unknown> = {
    upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime,
    type: t.type, id: t.id, user: t.user,
  };
  if (t.status === 'stopped') {
    out.status = t.exitstatus;
    out.endtime = t.endtime;
  }
  return out;
}
