// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterEach, describe, expect, it } from 'vitest';
import { PveClient } from '../../../src/api/client.js';
import { type TaskStatus, parseUpid } from '../../../src/api/endpoints/tasks.js';
import { PveDigestMismatchError, PveNotFoundError, PveTaskError } from '../../../src/api/errors.js';
import { waitForTask } from '../../../src/api/tasks.js';
import { type FakePve, fail, fixtureJson, ok, startFakePve } from './helpers/fake-pve.js';

const RUNNING = fixtureJson<{ data: TaskStatus }>('tasks-UPID-status-running.json').data;
const UPID = RUNNING.upid; // UPID:pve:00000AA5:0000CAE5:5FBE5E5F:qmconfig:100:root@pam:

let server: FakePve | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** A node whose task reports `running` `polls` times, then stops with `exit` and the given log. */
async function taskNode(exit: string, log: string[], polls = 2): Promise<PveClient> {
  let seen = 0;
  server = await startFakePve((req, reply) => {
    const url = new URL(req.url, 'http://x');
    const path = decodeURIComponent(url.pathname);
    if (path !== `/api2/json/nodes/pve/tasks/${UPID}/status` && path !== `/api2/json/nodes/pve/tasks/${UPID}/log`) {
      return fail(reply, 400, 'no such task');
    }
    if (path.endsWith('/status')) {
      return ok(reply, ++seen <= polls ? RUNNING : { ...RUNNING, status: 'stopped', exitstatus: exit });
    }
    const start = Number(url.searchParams.get('start') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const lines = log.map((t, i) => ({ n: i + 1, t })).slice(start, start + limit);
    return ok(reply, lines, { total: log.length });
  });
  return new PveClient({ baseUrl: server.url, auth: { kind: 'token', token: 'root@pam!auto=x' } });
}

describe('waitForTask', () => {
  it('follows a running task (polling the node named in the UPID) to OK', async () => {
    const client = await taskNode('OK', ['update VM 100: -scsihw virtio-scsi-single', 'TASK OK']);
    const seen: string[] = [];
    const res = await waitForTask(client, UPID, { pollMs: 5, onStatus: (s) => seen.push(s.status) });
    expect(res).toMatchObject({ exitStatus: 'OK', warnings: 0, warningLines: [] });
    expect(seen).toEqual(['running', 'running', 'stopped']);
    // The log is only read when there is something to report.
    expect(server!.requests.some((r) => r.url.includes('/log'))).toBe(false);
  });

  it('treats WARNINGS: n as success and returns the WARN lines', async () => {
    const warn = 'WARN: iothread is only valid with virtio disk or virtio-scsi-single controller, ignoring';
    const client = await taskNode('WARNINGS: 1', ['start VM 100', warn, 'TASK WARNINGS: 1'], 0);
    const res = await waitForTask(client, UPID, { pollMs: 5 });
    expect(res).toMatchObject({ exitStatus: 'WARNINGS: 1', warnings: 1, warningLines: [warn] });
  });

  it('throws PveTaskError with the exit status and the last log lines on failure', async () => {
    const log = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    log.push("TASK ERROR: command 'qm start 100' failed: exit code 1");
    const client = await taskNode("command 'qm start 100' failed: exit code 1", log, 1);
    const err = await waitForTask(client, UPID, { pollMs: 5, logLines: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveTaskError);
    const task = (err as PveTaskError).task!;
    expect(task.exitStatus).toBe("command 'qm start 100' failed: exit code 1");
    expect(task.logTail).toEqual(['line 29', 'line 30', "TASK ERROR: command 'qm start 100' failed: exit code 1"]);
    expect((err as Error).message).toBe("task qmconfig 100 on pve failed: command 'qm start 100' failed: exit code 1");
  });

  it('recognises a digest mismatch detected inside the task (second check under the lock)', async () => {
    const client = await taskNode('checksum mismatch (file change by other user?)', ['TASK ERROR: checksum mismatch'], 0);
    const err = await waitForTask(client, UPID, { pollMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveDigestMismatchError);
  });

  it('an unknown task is PveNotFoundError; a malformed UPID is refused before any request', async () => {
    const client = await taskNode('OK', []);
    const other = UPID.replace('qmconfig', 'qmstart');
    await expect(waitForTask(client, other, { pollMs: 5 })).rejects.toBeInstanceOf(PveNotFoundError);
    await expect(waitForTask(client, 'UPID:broken')).rejects.toThrow(/not a PVE task id/);
  });

  it('stops polling when aborted', async () => {
    const client = await taskNode('OK', [], 1000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 40);
    await expect(waitForTask(client, UPID, { pollMs: 10, signal: ac.signal })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('parseUpid', () => {
  it('parses real UPIDs (hex pid/pstart/starttime, trailing colon)', () => {
    expect(parseUpid(UPID)).toEqual({
      node: 'pve',
      pid: RUNNING.pid,
      pstart: RUNNING.pstart,
      starttime: RUNNING.starttime,
      type: 'qmconfig',
      id: '100',
      user: 'root@pam',
    });
    const create = fixtureJson<{ data: string }>('nodes-NODE-qemu-POST-create-upid-pve7.4.json').data;
    expect(parseUpid(create)).toMatchObject({ node: 'proxmox-noris', type: 'qmcreate', id: '101', starttime: 0x645ce78e });
    expect(parseUpid(`${UPID}extra`)).toBeNull();
  });
});
