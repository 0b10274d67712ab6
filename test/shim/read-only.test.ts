// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: with --read-only every non-GET is refused by the shim (403
// DP_AUDIT_READ_ONLY) before a byte reaches PVE, whatever the token could do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import { fetchVmPending } from '../../src/api/endpoints/qemu.js';
import { CSRF, rawRequest, recordingUpstream, startShim, type Seen } from './helpers.js';

describe('read-only mode', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let ro: { url: string; close(): Promise<void> };
  let rw: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    upstream = await recordingUpstream();
    ro = await startShim({ upstream: upstream.url, readOnly: true });
    rw = await startShim({ upstream: upstream.url });
  });
  afterAll(async () => {
    await ro.close();
    await rw.close();
    await upstream.close();
  });

  for (const [method, path] of [
    ['POST', '/api2/json/nodes/pve1/qemu/100/config'],
    ['POST', '/api2/json/nodes/pve1/qemu/100/status/reboot'],
    ['PUT', '/api2/json/nodes/pve1/qemu/100/config'],
    ['DELETE', '/api2/json/nodes/pve1/qemu/100'],
    ['PATCH', '/api2/json/nodes'],
    ['POST', '/api2/json/access/users'],
  ] as const) {
    it(`${method} ${path} -> 403 DP_AUDIT_READ_ONLY, nothing sent upstream`, async () => {
      const before = upstream.seen.length;
      // With the CSRF token: read-only refuses even a write the panel itself would send.
      const res = await rawRequest(ro.url, method, path, { 'content-type': 'application/x-www-form-urlencoded', csrfpreventiontoken: CSRF }, 'scsihw=virtio-scsi-single');
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_AUDIT_READ_ONLY' });
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('GETs still go through in read-only mode', async () => {
    const res = await rawRequest(ro.url, 'GET', '/api2/json/cluster/resources?type=vm');
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'GET', url: '/api2/json/cluster/resources?type=vm' });
  });

  it('without --read-only a write through the proxy is refused too (writes are jobs only)', async () => {
    const before = upstream.seen.length;
    const res = await rawRequest(rw.url, 'POST', '/api2/json/nodes/pve1/qemu/100/config', { 'content-type': 'application/x-www-form-urlencoded', csrfpreventiontoken: CSRF }, 'scsihw=virtio-scsi-single&digest=abc');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_PATH_NOT_ALLOWED' });
    expect(upstream.seen.length).toBe(before);
  });

  it('/dp/config tells the panel, naming the upstream host only', async () => {
    const a = JSON.parse((await rawRequest(ro.url, 'GET', '/dp/config')).body);
    const b = JSON.parse((await rawRequest(rw.url, 'GET', '/dp/config')).body);
    expect(a).toEqual({ readOnly: true, upstream: new URL(upstream.url).host, csrfToken: CSRF, auth: 'token', loginRequired: false, user: null, pendingBatch: { path: '/dp/pending', maxVmids: 500 } });
    expect(b.readOnly).toBe(false);
  });
});

describe('read-only mode against the simulator with an admin token', () => {
  let sim: RunningSimulator;
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    sim = await startSimulator({ vms: 3, seed: 5, authDelayMs: 0, timeScale: 0 });
    shim = await startShim({ upstream: sim.url, token: sim.token, fingerprint: sim.fingerprint!, readOnly: true });
  });
  afterAll(async () => {
    await shim.close();
    await sim.close();
  });

  it('a config write with a valid digest is refused and the VM config stays as it was', async () => {
    const client = new PveClient({ baseUrl: shim.url, auth: { kind: 'same-origin', csrfToken: CSRF }, retries: 0 });
    const resources = await client.get<{ vmid: number; node: string }[]>('/cluster/resources', { type: 'vm' });
    const { vmid, node } = resources[0]!;
    const before = await fetchVmPending(client, node, vmid);
    const digest = String(before.find((i) => i.key === 'digest')?.value);
    const err = await client.post(`/nodes/${node}/qemu/${vmid}/config`, { scsihw: 'virtio-scsi-single', digest }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('read-only mode');
    const after = await fetchVmPending(client, node, vmid);
    // The simulator shuffles key order per answer, as PVE's hash order does.
    const byKey = (items: typeof before) => [...items].sort((x, y) => x.key.localeCompare(y.key));
    expect(byKey(after)).toEqual(byKey(before));
  });
});
