// SPDX-License-Identifier: AGPL-3.0-or-later
// Security regression tests for PVE login mode (the mode that listens beyond loopback): raw bytes
// from a client with no session, or with a session id it chose, against a shim in front of the
// simulator. Each test is named after the attack.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsSession } from '../../api-shim/plugins/login.js';
import { SECURITY_HEADERS } from '../../api-shim/security-headers.js';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { parseAnswers, rawRequest, rawSocket, startShim } from './helpers.js';

const json = { 'content-type': 'application/json' };

/** A plain-http pass-through in front of `target` that records every request the shim sends PVE. */
async function recordingPassThrough(target: string): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const out = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('login mode: attacks without a session', () => {
  let sim: RunningSimulator;
  let pve: Awaited<ReturnType<typeof recordingPassThrough>>;
  let shim: Awaited<ReturnType<typeof startShim>>;
  let stateDir: string;
  let host: string;
  /** The operator's session, plan and job (made in beforeAll). */
  const operator = { cookie: '', csrf: '', ticket: '', planId: '', jobId: '' };

  beforeAll(async () => {
    const conf = (vmid: number) => `boot: order=scsi0\nmemory: 2048\nscsi0: local-lvm:vm-${vmid}-disk-0,size=8G\nscsihw: lsi\n`;
    sim = await startSimulator({ fleet: fleetFromConfigs([100, 101].map((vmid) => ({ vmid, text: conf(vmid), status: 'stopped' as const }))), authDelayMs: 0, timeScale: 0, http: true });
    pve = await recordingPassThrough(sim.url);
    stateDir = mkdtempSync(join(tmpdir(), 'dp-login-attacks-'));
    shim = await startShim({
      upstream: pve.url,
      token: undefined,
      login: true,
      now: () => sim.state.clock.nowMs(),
      stateDir,
      limits: { loginsPerMinute: 1000 },
    });
    host = new URL(shim.url).host;
    const login = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'operator', realm: 'pve', password: 'operator' }));
    expect(login.status, login.body).toBe(200);
    operator.cookie = String(login.headers['set-cookie']).split(';')[0]!;
    operator.csrf = (JSON.parse(login.body) as { csrfToken: string }).csrfToken;
    const h = { ...json, cookie: operator.cookie, csrfpreventiontoken: operator.csrf };
    const plan = await rawRequest(shim.url, 'POST', '/dp/plans', h, JSON.stringify({ vms: [{ vmid: 100, node: sim.state.vms.get(100)!.node }] }));
    operator.planId = (JSON.parse(plan.body) as { id: string }).id;
    const job = await rawRequest(shim.url, 'POST', '/dp/jobs', h, JSON.stringify({ planId: operator.planId, reboot: 'never' }));
    operator.jobId = (JSON.parse(job.body) as { id: string }).id;
    expect([plan.status, job.status]).toEqual([200, 200]);
    // The job's own calls to PVE end before the attacks start counting.
    for (let status = 'running', deadline = Date.now() + 30_000; status === 'running' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      status = (JSON.parse((await rawRequest(shim.url, 'GET', `/dp/jobs/${operator.jobId}`, { cookie: operator.cookie })).body) as { status: string }).status;
    }
  });
  afterAll(async () => {
    await shim.close();
    await pve.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('anonymous-job-reads: without a session, the job list, a job, its events and a plan (every disk config) are 401, in any spelling', async () => {
    const targets = [
      '/dp/jobs',
      `/dp/jobs/${operator.jobId}`,
      `/dp/jobs/${operator.jobId}/events`,
      `/dp/plans/${operator.planId}`,
      `/%64p/plans/${operator.planId}`,
      `/dp/%6aobs`,
      `/%61pi2/json/nodes`,
    ];
    for (const target of targets) {
      for (const cookie of ['', 'Cookie: dp_session=guessed\r\n']) {
        const before = pve.calls.length;
        const { text } = await rawSocket(shim.url, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${cookie}\r\n`, 200);
        const answers = parseAnswers(text);
        expect(answers.map((a) => a.status), target).toEqual([401]);
        expect(JSON.parse(answers[0]!.body)).toMatchObject({ data: null, code: 'DP_LOGIN_REQUIRED' });
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(answers[0]!.headers[k], k).toBe(v);
        // Nothing of the operator's work, and no ticket, in any byte.
        expect(text).not.toMatch(/operator@pve|local-lvm|PVE:operator/);
        expect(text).not.toContain(operator.jobId.slice(2));
        expect(pve.calls.slice(before), target).toEqual([]);
      }
    }
  });

  it('anonymous-job-writes: without a session, cancel, rollback and resume of a known job are 401, nothing reaches PVE', async () => {
    for (const action of ['cancel', 'rollback', 'resume']) {
      const before = pve.calls.length;
      const body = action === 'rollback' ? '{"reboot":"never"}' : '{}';
      const { text } = await rawSocket(
        shim.url,
        `POST /dp/jobs/${operator.jobId}/${action} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nCSRFPreventionToken: ${operator.csrf}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        200,
      );
      const answers = parseAnswers(text);
      expect(answers.map((a) => a.status), action).toEqual([401]);
      expect(JSON.parse(answers[0]!.body)).toMatchObject({ code: 'DP_LOGIN_REQUIRED' });
      expect(pve.calls.slice(before), action).toEqual([]);
    }
  });

  it('the sign-in page still gets what it needs without a session: /dp/config, /dp/login', async () => {
    const config = await rawRequest(shim.url, 'GET', '/dp/config');
    expect(JSON.parse(config.body)).toMatchObject({ auth: 'login', loginRequired: true, user: null, csrfToken: '' });
    expect(needsSession('/dp/login')).toBe(false);
    expect(needsSession('/dp/logout')).toBe(false);
    expect(needsSession('/*')).toBe(false);
    expect(needsSession(undefined)).toBe(false);
    for (const route of ['/dp/jobs', '/dp/jobs/:id/events', '/dp/plans', '/dp/pending', '/api2/json/*']) expect(needsSession(route), route).toBe(true);
  });

  it('session-fixation: signing in never keeps the id the browser came with, and that id stops working', async () => {
    // The attacker's own valid session, planted in the victim's browser, then the victim signs in.
    const planted = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'audit', realm: 'pve', password: 'audit' }));
    const plantedCookie = String(planted.headers['set-cookie']).split(';')[0]!;
    const victim = await rawRequest(shim.url, 'POST', '/dp/login', { ...json, cookie: plantedCookie }, JSON.stringify({ username: 'operator', realm: 'pve', password: 'operator' }));
    expect(victim.status).toBe(200);
    const victimCookie = String(victim.headers['set-cookie']).split(';')[0]!;
    expect(victimCookie).not.toBe(plantedCookie);
    const withPlanted = JSON.parse((await rawRequest(shim.url, 'GET', '/dp/config', { cookie: plantedCookie })).body) as { user: string | null };
    expect(withPlanted.user).toBeNull();
    // An id the attacker made up is never adopted either.
    const made = await rawRequest(shim.url, 'POST', '/dp/login', { ...json, cookie: 'dp_session=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, JSON.stringify({ username: 'audit', realm: 'pve', password: 'audit' }));
    expect(String(made.headers['set-cookie'])).not.toContain('aaaaaaaaaaaaaaaa');
    expect(JSON.stringify(victim.headers) + victim.body).not.toContain('PVE:');
  });
});

describe('login-brute-force-ipv6-rotation', () => {
  it('guesses from 11 addresses of one IPv6 /64, each naming another client in X-Forwarded-For, share one limit (10 per minute)', async () => {
    const sim = await startSimulator({ fleet: fleetFromConfigs([]), authDelayMs: 0, timeScale: 0 });
    const shim = await startShim({ upstream: sim.url, token: undefined, login: true, fingerprint: sim.fingerprint! });
    try {
      const statuses: number[] = [];
      for (let i = 1; i <= 11; i++) {
        const res = await shim.app.inject({
          method: 'POST',
          url: '/dp/login',
          remoteAddress: `2001:db8:1:2::${i.toString(16)}`,
          // A forwarding header naming another client changes nothing: the shim trusts no proxy.
          headers: { ...json, 'x-forwarded-for': `198.51.100.${i}`, forwarded: `for=198.51.100.${i}`, 'x-real-ip': `198.51.100.${i}` },
          payload: JSON.stringify({ username: 'audit', realm: 'pve', password: `guess-${i}` }),
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json()).toMatchObject({ code: 'DP_RATE_LIMITED' });
          expect(res.headers['x-frame-options']).toBe('DENY');
        }
      }
      expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
      // Another /64 has its own limit.
      const other = await shim.app.inject({ method: 'POST', url: '/dp/login', remoteAddress: '2001:db8:1:3::1', headers: json, payload: JSON.stringify({ username: 'audit', realm: 'pve', password: 'x' }) });
      expect(other.statusCode).toBe(401);
    } finally {
      await shim.close();
      await sim.close();
    }
  });
});
