// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/nodes/{node}/tasks/{upid}/...` and the UPID format. */
import type { PveClient, PveEnvelope, RequestOptions } from '../client.js';
import { apiPath } from '../params.js';

/** `GET .../tasks/{upid}/status`. No `exitstatus` while running; no `endtime` here (only in task lists). */
export interface TaskStatus {
  status: 'running' | 'stopped';
  /** `OK`, `WARNINGS: n` (a success) or the error text. */
  exitstatus?: string;
  type: string;
  /** Always a string, e.g. `"100"`. */
  id: string;
  user: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  upid: string;
  [member: string]: unknown;
}

/** One task log line. */
export interface TaskLogLine {
  /** Line number, 1-based. */
  n: number;
  t: string;
}

/** A parsed `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`. */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Epoch seconds. */
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** Parses a UPID; null when it is not one (pid/pstart/starttime are hex in the string). */
export function parseUpid(upid: string): Upid | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

/** `GET /nodes/{node}/tasks/{upid}/status` - the node must be the one named in the UPID. */
export function fetchTaskStatus(
  client: PveClient,
  node: string,
  upid: string,
  options?: RequestOptions,
): Promise<TaskStatus> {
  return client.get<TaskStatus>(apiPath`/nodes/${node}/tasks/${upid}/status`, undefined, options);
}

/** `GET /nodes/{node}/tasks/{upid}/log?start=&limit=` -> lines and `total` (line count). */
export async function fetchTaskLog(
  client: PveClient,
  node: string,
  upid: string,
  params: { start?: number; limit?: number } = {},
  options?: RequestOptions,
): Promise<{ lines: TaskLogLine[]; total: number | null }> {
  const env: PveEnvelope<TaskLogLine[]> = await client.requestEnvelope<TaskLogLine[]>(
    'GET',
    apiPath`/nodes/${node}/tasks/${upid}/log`,
    params,
    options,
  );
  return { lines: env.data, total: typeof env.total === 'number' ? env.total : null };
}

/** One entry of the task list `GET /nodes/{node}/tasks`: `status` holds the exit text here. */
export interface TaskListEntry {
  upid: string;
  type: string;
  id: string;
  user: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  /** Absent while running. */
  endtime?: number;
  /** Exit text: `OK`, `WARNINGS: n` or the error; absent while running. */
  status?: string;
  [member: string]: unknown;
}

/** `GET /nodes/{node}/tasks[?vmid=&typefilter=&start=&limit=&source=]` -> entries and `total`. */
export async function fetchNodeTasks(
  client: PveClient,
  node: string,
  params: { vmid?: number; typefilter?: string; start?: number; limit?: number; source?: 'archive' | 'active' | 'all' } = {},
  options?: RequestOptions,
): Promise<{ tasks: TaskListEntry[]; total: number | null }> {
  const env = await client.requestEnvelope<TaskListEntry[]>('GET', apiPath`/nodes/${node}/tasks`, params, options);
  return { tasks: env.data, total: typeof env.total === 'number' ? env.total : null };
}
