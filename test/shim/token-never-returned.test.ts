// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the API token lives only in the shim. It is added upstream; the browser's
// own Authorization / Cookie / CSRF headers are dropped; no answer (success, PVE error, shim
// refusal, unreachable PVE, /dp/config) ever carries it, and Set-Cookie never comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { CSRF, SECRET, TOKEN, rawRequest, recordingUpstream, startShim, type Seen } from './helpers.js';

describe('token stays server-side', () => {
  let upstream: { url: string; seen: Seen[]; close(): Promise<void> };
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    upstream = await recordingUpstream();
    shim = await startShim({ upstream: upstream.url });
  });
  afterAll(async () => {
    await shim.close();
    await upstream.close();
  });

  it('adds PVEAPIToken upstream and strips the browser credentials', async () => {
    const res = await rawRequest(shim.url, 'GET', '/api2/json/nodes', {
      authorization: 'PVEAuthCookie=browser-ticket',
      cookie: 'PVEAuthCookie=browser-ticket; other=1',
      csrfpreventiontoken: 'browser-csrf',
    });
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['authorization']).toBe(`PVEAPIToken=${TOKEN}`);
    expect(seen.headers['cookie']).toBeUndefined();
    expect(seen.headers['csrfpreventiontoken']).toBeUndefined();
    expect(JSON.stringify(res.headers)).not.toContain(SECRET);
    expect(res.body).not.toContain(SECRET);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refusals and /dp/config never carry the token', async () => {
    for (const [method, path] of [
      ['GET', '/api2/json/access/users'],
      ['GET', '/api2/json/nodes/%2E%2E'],
      ['GET', '/dp/config'],
      ['GET', '/nope'],
    ] as const) {
      const res = await rawRequest(shim.url, method, path);
      expect(`${JSON.stringify(res.headers)}${res.body}`).not.toContain(SECRET);
      expect(`${JSON.stringify(res.headers)}${res.body}`).not.toContain('PVEAPIToken');
    }
  });

  it('an unreachable PVE gives 502 DP_UPSTREAM_UNREACHABLE without the token', async () => {
    const dead = await recordingUpstream();
    const deadUrl = dead.url;
    await dead.close();
    const s = await startShim({ upstream: deadUrl });
    try {
      const res = await rawRequest(s.url, 'GET', '/api2/json/nodes');
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_UPSTREAM_UNREACHABLE' });
      expect(res.body).not.toContain(SECRET);
    } finally {
      await s.close();
    }
  });
});

describe('token stays server-side against the simulator', () => {
  let sim: RunningSimulator;
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    sim = await startSimulator({ vms: 3, seed: 2, authDelayMs: 0, timeScale: 0 });
    shim = await startShim({ upstream: sim.url, token: sim.auditToken, fingerprint: sim.fingerprint! });
  });
  afterAll(async () => {
    await shim.close();
    await sim.close();
  });

  it('PVE answers (data and errors) do not echo the token', async () => {
    const secret = sim.auditToken.split('=').slice(1).join('=');
    const answers = [
      await rawRequest(shim.url, 'GET', '/api2/json/access/permissions'),
      await rawRequest(shim.url, 'GET', '/api2/json/cluster/resources'),
      // audit@pve may not read syslog: PVE's 403 comes back, without the token.
      await rawRequest(shim.url, 'GET', '/api2/json/nodes/pve1/syslog'),
      await rawRequest(shim.url, 'GET', '/api2/json/nodes/nosuchnode/qemu/999/pending'),
    ];
    expect(answers[0]!.status).toBe(200);
    // The read reached PVE, which refused it for the audit token (not the shim).
    expect(answers[2]!.status).toBe(403);
    expect(answers[2]!.body).not.toContain('DP_');
    for (const a of answers) expect(`${JSON.stringify(a.headers)}${a.body}`).not.toContain(secret);
  });
});
