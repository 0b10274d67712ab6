// SPDX-License-Identifier: AGPL-3.0-or-later
// PVE login mode end to end against the simulator: each user signs in with their own PVE account
// through the shim (password, and TOTP where PVE asks for it), the browser holds only an HttpOnly
// SameSite=Strict session cookie, every upstream call runs as that user so PVE's ACLs decide, and
// the ticket is renewed before PVE's 2 h expiry.
import { createHash } from 'node:crypto';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOTP_DEMO_SECRET_HEX } from '../../api-shim/simulator/acl.js';
import { totpCode } from '../../api-shim/simulator/auth.js';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { rawRequest, startShim } from './helpers.js';

interface Signed {
  cookie: string;
  csrf: string;
  setCookie: string;
}

const json = { 'content-type': 'application/json' };

async function signIn(base: string, username: string, realm: string, password: string): Promise<Signed> {
  const res = await rawRequest(base, 'POST', '/dp/login', json, JSON.stringify({ username, realm, password }));
  expect(res.status, res.body).toBe(200);
  const body = JSON.parse(res.body) as { status: string; csrfToken: string };
  expect(body.status).toBe('ok');
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, setCookie };
}

/** Plans `vmids` and runs them as a job (reboot never) in the session; resolves with the finished job. */
async function planAndRun(base: string, s: Signed, sim: RunningSimulator, vmids: number[], extra: Record<string, string> = {}) {
  const h = { ...json, cookie: s.cookie, csrfpreventiontoken: s.csrf, ...extra };
  const vms = vmids.map((vmid) => ({ vmid, node: sim.state.vms.get(vmid)!.node }));
  const plan = await rawRequest(base, 'POST', '/dp/plans', h, JSON.stringify({ vms }));
  if (plan.status !== 200) return { plan, job: null };
  const planId = (JSON.parse(plan.body) as { id: string }).id;
  const started = await rawRequest(base, 'POST', '/dp/jobs', h, JSON.stringify({ planId, reboot: 'never' }));
  if (started.status !== 200) return { plan, job: started };
  let job = JSON.parse(started.body) as { id: string; status: string; who: string; counts: Record<string, number> };
  // Until it ends (a generous deadline, as waitForJob's: 200 polls of 50 ms were 10 s, which a loaded machine could use up).
  for (const until = Date.now() + 120_000; job.status === 'running' && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
    job = JSON.parse((await rawRequest(base, 'GET', `/dp/jobs/${job.id}`, { cookie: s.cookie })).body);
  }
  return { plan, job: { ...started, body: JSON.stringify(job), view: job } };
}

const digests = (sim: RunningSimulator) =>
  [...sim.state.vms.values()].map((vm) => `${vm.vmid}:${createHash('sha1').update(vm.text).digest('hex')}`).sort();

describe('PVE login mode', () => {
  let sim: RunningSimulator;
  let shim: { url: string; close(): Promise<void> };
  let ro: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const conf = (vmid: number) => `boot: order=scsi0\nmemory: 2048\nscsi0: local-lvm:vm-${vmid}-disk-0,size=8G\nscsihw: lsi\n`;
    sim = await startSimulator({ fleet: fleetFromConfigs([100, 101, 102].map((vmid) => ({ vmid, text: conf(vmid), status: 'stopped' as const }))), authDelayMs: 0, timeScale: 0 });
    const common = {
      upstream: sim.url,
      token: undefined,
      login: true,
      fingerprint: sim.fingerprint!,
      now: () => sim.state.clock.nowMs(),
      limits: { loginsPerMinute: 1000 },
    };
    shim = await startShim(common);
    ro = await startShim({ ...common, readOnly: true });
  });
  afterAll(async () => {
    await shim.close();
    await ro.close();
    await sim.close();
  });

  it('before sign-in: the API answers 401 DP_LOGIN_REQUIRED and /dp/config asks for a login', async () => {
    const res = await rawRequest(shim.url, 'GET', '/api2/json/cluster/resources');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_LOGIN_REQUIRED' });
    const config = JSON.parse((await rawRequest(shim.url, 'GET', '/dp/config')).body);
    expect(config).toMatchObject({ auth: 'login', loginRequired: true, user: null, csrfToken: '' });
  });

  it('a wrong password is 401 DP_LOGIN_FAILED and sets no cookie; a cross-site login is refused', async () => {
    const res = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'audit', realm: 'pve', password: 'nope' }));
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_LOGIN_FAILED' });
    expect(res.headers['set-cookie']).toBeUndefined();
    const cross = await rawRequest(shim.url, 'POST', '/dp/login', { ...json, origin: 'https://evil.example' }, JSON.stringify({ username: 'audit', realm: 'pve', password: 'audit' }));
    expect(JSON.parse(cross.body)).toMatchObject({ code: 'DP_CSRF' });
  });

  it('the session cookie is HttpOnly and SameSite=Strict, and holds no PVE ticket', async () => {
    const s = await signIn(shim.url, 'audit', 'pve', 'audit');
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).toMatch(/Path=\//);
    // Plain http on loopback: a Secure cookie would be dropped by the browser (see plugins/login.ts).
    expect(s.setCookie).not.toMatch(/Secure/);
    expect(s.setCookie).not.toContain('PVE:');
    const config = JSON.parse((await rawRequest(shim.url, 'GET', '/dp/config', { cookie: s.cookie })).body);
    expect(config).toMatchObject({ auth: 'login', loginRequired: false, user: 'audit@pve', csrfToken: s.csrf });
  });

  it('an auditor sees every VM and changes nothing: a proxied write and a job both leave every digest as it was', async () => {
    const before = digests(sim);
    const s = await signIn(shim.url, 'audit', 'pve', 'audit');
    const res = await rawRequest(shim.url, 'GET', '/api2/json/cluster/resources?type=vm', { cookie: s.cookie });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body).data as unknown[]).length).toBe(3);
    const [vm] = [...sim.state.vms.values()];
    const write = await rawRequest(shim.url, 'POST', `/api2/json/nodes/${vm!.node}/qemu/${vm!.vmid}/config`, { cookie: s.cookie, csrfpreventiontoken: s.csrf, 'content-type': 'application/x-www-form-urlencoded' }, 'scsihw=lsi');
    expect(write.status).toBe(403);
    // The auditor may preview a plan (reads); the job's writes run as audit@pve and PVE refuses them.
    const { job } = await planAndRun(shim.url, s, sim, [...sim.state.vms.keys()]);
    const view = (job as { view: { who: string; status: string; counts: Record<string, number> } }).view;
    expect(view).toMatchObject({ who: 'audit@pve', status: 'finished' });
    expect(view.counts['written'] ?? 0).toBe(0);
    expect(view.counts['verified'] ?? 0).toBe(0);
    expect(digests(sim)).toEqual(before);
  });

  it("PVE's ACLs decide: the operator (no Sys.Syslog) gets PVE's 403 for the syslog the auditor's token would not read either", async () => {
    const s = await signIn(shim.url, 'operator', 'pve', 'operator');
    const node = [...sim.state.vms.values()][0]!.node;
    const res = await rawRequest(shim.url, 'GET', `/api2/json/nodes/${node}/syslog`, { cookie: s.cookie });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('DP_');
  });

  it("an operator's session runs a job as the operator: the VM is migrated in PVE, the job names who ran it", async () => {
    const s = await signIn(shim.url, 'operator', 'pve', 'operator');
    const target = sim.state.vms.get(100)!;
    const before = target.text;
    // Without the session's CSRF token the plan is refused.
    const noCsrf = await rawRequest(shim.url, 'POST', '/dp/plans', { ...json, cookie: s.cookie }, JSON.stringify({ vms: [{ vmid: 100, node: target.node }] }));
    expect(JSON.parse(noCsrf.body)).toMatchObject({ code: 'DP_CSRF' });
    const { job } = await planAndRun(shim.url, s, sim, [100]);
    const view = (job as { view: { who: string; status: string; counts: Record<string, number> } }).view;
    expect(view).toMatchObject({ who: 'operator@pve', status: 'finished' });
    expect(view.counts['failed'] ?? 0).toBe(0);
    expect(target.text).not.toBe(before);
    expect(target.text).toMatch(/^scsihw: virtio-scsi-single$/m);
  });

  it("another user's job is out of reach without Sys.Audit/Sys.Modify on /nodes, as PVE tasks: the auditor neither lists, opens, follows nor rolls back the operator's job; root sees it", async () => {
    const op = await signIn(shim.url, 'operator', 'pve', 'operator');
    const { job } = await planAndRun(shim.url, op, sim, [101]);
    const id = (job as { view: { id: string } }).view.id;
    const ids = async (s: Signed) => (JSON.parse((await rawRequest(shim.url, 'GET', '/dp/jobs', { cookie: s.cookie })).body) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    expect(await ids(op)).toContain(id);

    const audit = await signIn(shim.url, 'audit', 'pve', 'audit');
    expect(await ids(audit)).not.toContain(id);
    for (const [method, path] of [
      ['GET', `/dp/jobs/${id}`],
      ['GET', `/dp/jobs/${id}/events`],
      ['POST', `/dp/jobs/${id}/rollback`],
      ['POST', `/dp/jobs/${id}/cancel`],
    ] as const) {
      const res = await rawRequest(shim.url, method, path, { ...json, cookie: audit.cookie, csrfpreventiontoken: audit.csrf }, method === 'POST' ? JSON.stringify(path.endsWith('rollback') ? { reboot: 'never' } : {}) : undefined);
      expect([res.status, JSON.parse(res.body).code], `${method} ${path}`).toEqual([403, 'DP_JOB_FORBIDDEN']);
    }
    expect(JSON.parse((await rawRequest(shim.url, 'GET', `/dp/jobs/${id}`, { cookie: audit.cookie })).body).message).toBe(
      `job ${id} was started by operator@pve; another user's needs Sys.Audit on /nodes (as for PVE tasks)`,
    );

    const root = await signIn(shim.url, 'root', 'pam', 'simulator');
    expect(await ids(root)).toContain(id);
  });

  it('--read-only refuses the operator too', async () => {
    const s = await signIn(ro.url, 'operator', 'pve', 'operator');
    const before = digests(sim);
    const res = await rawRequest(ro.url, 'POST', '/dp/jobs', { ...json, cookie: s.cookie, csrfpreventiontoken: s.csrf }, JSON.stringify({ planId: 'p-x', reboot: 'never' }));
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_AUDIT_READ_ONLY' });
    expect(digests(sim)).toEqual(before);
  });

  it('TOTP: PVE asks for a second factor; a wrong code fails, the right one signs in, a reused one fails', async () => {
    const first = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'mfa', realm: 'pve', password: 'mfa' }));
    const step = JSON.parse(first.body) as { status: string; challenge: string; types: string[] };
    expect(step).toMatchObject({ status: 'second-factor', types: ['totp'] });
    expect(first.headers['set-cookie']).toBeUndefined();
    expect(first.body).not.toContain('PVE:');
    const code = totpCode(TOTP_DEMO_SECRET_HEX, sim.state.clock.nowSec());
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const bad = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ challenge: step.challenge, code: wrong }));
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'DP_LOGIN_FAILED' });
    const ok = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ challenge: step.challenge, code }));
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'ok', user: 'mfa@pve' });
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    expect((await rawRequest(shim.url, 'GET', '/api2/json/nodes', { cookie })).status).toBe(200);
    const again = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'mfa', realm: 'pve', password: 'mfa' }));
    const replay = await rawRequest(shim.url, 'POST', '/dp/login', json, JSON.stringify({ challenge: JSON.parse(again.body).challenge, code }));
    expect(JSON.parse(replay.body)).toMatchObject({ code: 'DP_LOGIN_FAILED' });
  });

  it('the ticket is renewed before the 2 h expiry: a session used every 70 min outlives its first ticket; an idle one ends', async () => {
    const s = await signIn(shim.url, 'audit', 'pve', 'audit');
    const idle = await signIn(shim.url, 'audit', 'pve', 'audit');
    const read = (c: string) => rawRequest(shim.url, 'GET', '/api2/json/nodes', { cookie: c });
    sim.state.clock.advance(70 * 60_000);
    expect((await read(s.cookie)).status).toBe(200);
    sim.state.clock.advance(70 * 60_000);
    // 140 min after sign-in: the first ticket is dead in PVE, the renewed one is not.
    expect((await read(s.cookie)).status).toBe(200);
    const gone = await read(idle.cookie);
    expect(gone.status).toBe(401);
    expect(JSON.parse(gone.body)).toMatchObject({ code: 'DP_LOGIN_REQUIRED' });
  });

  it('login attempts are rate limited per client address', async () => {
    const tight = await startShim({ upstream: sim.url, token: undefined, login: true, fingerprint: sim.fingerprint!, limits: { loginsPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await rawRequest(tight.url, 'POST', '/dp/login', json, JSON.stringify({ username: 'audit', realm: 'pve', password: `guess${i}` }))).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await tight.close();
    }
  });

  it('logout ends the session', async () => {
    const s = await signIn(shim.url, 'audit', 'pve', 'audit');
    expect((await rawRequest(shim.url, 'POST', '/dp/logout', { cookie: s.cookie, csrfpreventiontoken: s.csrf })).status).toBe(200);
    expect((await rawRequest(shim.url, 'GET', '/api2/json/nodes', { cookie: s.cookie })).status).toBe(401);
  });

  it('served over HTTPS the cookie is Secure and __Host- prefixed (bound to this origin)', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
    const tls = await startShim({ upstream: sim.url, token: undefined, login: true, fingerprint: sim.fingerprint!, tls: { cert: pems.cert, key: pems.private } });
    try {
      const base = tls.url.replace(/^http:/, 'https:');
      const s = await signIn(base, 'audit', 'pve', 'audit');
      expect(s.setCookie).toMatch(/^__Host-dp_session=/);
      expect(s.setCookie).toMatch(/; Secure/);
      expect(s.setCookie).toMatch(/HttpOnly/);
      expect((await rawRequest(base, 'GET', '/api2/json/nodes', { cookie: s.cookie })).status).toBe(200);
    } finally {
      await tls.close();
    }
  });
});
