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

export { type Upid, parseUpid } from '../../pve/upid.js';

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
