// SPDX-License-Identifier: AGPL-3.0-or-later
// Calls of the jobs API over real sockets, and the simulator's view of the VMs, for the job tests.
import http from 'node:http';
import type { RunningSimulator } from '../../api-shim/simulator/index.js';
import type { JobEvent, JobView, PlanAnswer } from '../../api-shim/contracts/jobs.js';
import { CSRF, rawRequest } from './helpers.js';

export interface Answer<T> {
  status: number;
  body: T & { code?: string; message?: string };
}

/** A JSON call of the shim with the CSRF token. */
export async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { csrfpreventiontoken: CSRF };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await rawRequest(base, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
  return { status: res.status, body: JSON.parse(res.body) as Answer<T>['body'] };
}

/** The VMs of the simulator with their nodes, as the panel shows them. */
export function vmsOf(sim: RunningSimulator, vmids?: number[]): { vmid: number; node: string }[] {
  return [...sim.state.vms.values()]
    .filter((vm) => !vmids || vmids.includes(vm.vmid))
    .map((vm) => ({ vmid: vm.vmid, node: vm.node }))
    .sort((a, b) => a.vmid - b.vmid);
}

export async function makePlan(base: string, vms: { vmid: number; node: string }[], extra: Record<string, unknown> = {}): Promise<PlanAnswer> {
  const res = await api<PlanAnswer>(base, 'POST', '/dp/plans', { vms, ...extra });
  if (res.status !== 200) throw new Error(`POST /dp/plans: ${res.status} ${res.body.message}`);
  return res.body;
}

export async function startJob(base: string, body: Record<string, unknown>): Promise<JobView> {
  const res = await api<JobView>(base, 'POST', '/dp/jobs', body);
  if (res.status !== 200) throw new Error(`POST /dp/jobs: ${res.status} ${res.body.message}`);
  return res.body;
}

/** Polls the job until it is no longer running (generous deadline: the machine may be loaded). */
export async function waitForJob(base: string, id: string, deadlineMs = 120_000): Promise<JobView> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const res = await api<JobView>(base, 'GET', `/dp/jobs/${id}`);
    if (res.status === 200 && res.body.status !== 'running') return res.body;
    if (Date.now() > until) throw new Error(`job ${id} still ${res.body.status} after ${deadlineMs} ms: ${JSON.stringify(res.body.counts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SseEvent {
  id: string;
  type: JobEvent['type'];
  data: Record<string, unknown>;
}

/**
 * Reads `/dp/jobs/:id/events` until the server ends it or `stop(events)` says so.
 * @returns the events in arrival order
 */
export function readEvents(base: string, id: string, opts: { lastEventId?: string; stop?: (events: SseEvent[]) => boolean } = {}): Promise<SseEvent[]> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
    const req = http.get({ host: u.hostname, port: u.port, path: `/dp/jobs/${id}/events`, headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events: HTTP ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
          if (!field('event')) continue; // keep-alive comment
          events.push({ id: field('id')!, type: field('event') as SseEvent['type'], data: JSON.parse(field('data')!) as Record<string, unknown> });
          if (opts.stop?.(events)) {
            req.destroy();
            return resolve(events);
          }
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (err) => (events.length > 0 && opts.stop ? resolve(events) : reject(err)));
  });
}
