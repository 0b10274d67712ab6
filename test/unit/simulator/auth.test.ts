// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Authentication and privileges over real sockets: API tokens, ticket + CSRF, ticket lifetime,
 * delayed 401s, filtered listings for tokens without Datastore.Audit, HTTPS with the printed
 * fingerprint.
 */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call, getData } from './helpers/http.js';

let sim: RunningSimulator;
/** Config path of a VM of the generated fleet that is not locked. */
let cfgPath: string;

beforeAll(async () => {
  sim = await startSimulator({ vms: 12, seed: 3, http: true, authDelayMs: 0, timeScale: 0 });
  const vm = [...sim.state.vms.values()].find((v) => !/^lock:/m.test(v.text))!;
  cfgPath = `/nodes/${vm.node}/qemu/${vm.vmid}/config`;
});
afterAll(async () => {
  await sim?.close();
});

describe('API tokens', () => {
  it('a valid token is accepted, with a space instead of `=` too', async () => {
    expect((await call(sim, 'GET', '/version')).status).toBe(200);
    expect((await call(sim, 'GET', '/version', { token: sim.token.replace('=', ' ') })).status).toBe(200);
  });

  it('a wrong secret is a 401 with an empty body; no credentials is 401 `No ticket`', async () => {
    const bad = await call(sim, 'GET', '/version', { token: `${sim.token.split('=')[0]}=11111111-2222-3333-4444-555555555555` });
    expect([bad.status, bad.text]).toEqual([401, '']);
    const none = await call(sim, 'GET', '/version', { token: null });
    expect([none.status, none.reason]).toEqual([401, 'No ticket']);
    expect(none.body).toEqual({ data: null, message: 'No ticket\n' });
  });

  it('/access/permissions of the read-only token: VM.Audit and Datastore.Audit on /', async () => {
    const perms = await getData(sim, '/access/permissions', sim.auditToken);
    expect(perms['/']).toEqual({ 'Datastore.Audit': 1, 'VM.Audit': 1 });
  });

  it('a token without Datastore.Audit sees VMs but no storage (PVE filters, it does not refuse)', async () => {
    expect(await getData(sim, '/storage', sim.noDatastoreToken)).toEqual([]);
    const res: Array<{ type: string }> = await getData(sim, '/cluster/resources', sim.noDatastoreToken);
    expect(res.filter((r) => r.type === 'qemu')).toHaveLength(12);
    expect(res.filter((r) => r.type === 'storage')).toEqual([]);
    expect((await getData(sim, '/storage', sim.auditToken)).length).toBeGreaterThan(5);
  });

  it('Sys.Audit-only endpoints refuse the read-only token with 403', async () => {
    const a = await call(sim, 'GET', '/cluster/ha/resources', { token: sim.auditToken });
    expect([a.status, a.reason]).toEqual([403, 'Permission check failed (/, Sys.Audit)']);
    const b = await call(sim, 'GET', '/nodes/pve1/syslog', { token: sim.auditToken });
    expect([b.status, b.reason]).toEqual([403, 'Permission check failed (/nodes/pve1, Sys.Syslog)']);
  });
});

describe('tickets', () => {
  async function login(password = sim.rootPassword) {
    const a = await call(sim, 'POST', '/access/ticket', { token: null, form: { username: 'root', realm: 'pam', password } });
    return a;
  }

  it('a ticket in the cookie authenticates GETs; writes also need the CSRF token', async () => {
    const { body } = await login();
    const { ticket, CSRFPreventionToken: csrf } = body.data;
    expect((await call(sim, 'GET', '/nodes', { token: null, cookie: ticket })).status).toBe(200);
    const noCsrf = await call(sim, 'PUT', cfgPath, { token: null, cookie: ticket, form: { description: 'x' } });
    expect([noCsrf.status, noCsrf.reason]).toEqual([401, 'Permission denied - invalid csrf token']);
    const ok = await call(sim, 'PUT', cfgPath, { token: null, cookie: ticket, csrf, form: { description: 'x' } });
    expect(ok.status).toBe(200);
  });

  it('an API token needs no CSRF token for writes', async () => {
    expect((await call(sim, 'PUT', cfgPath, { form: { description: 'y' } })).status).toBe(200);
  });

  it('a wrong password is 401 `authentication failure`', async () => {
    const a = await login('nope');
    expect([a.status, a.reason]).toEqual([401, 'authentication failure']);
  });

  it('tickets expire after 2 h and can be renewed before that by using them as the password', async () => {
    const { ticket } = (await login()).body.data;
    sim.state.clock.advance(3600 * 1000);
    const renewed = await login(ticket);
    expect(renewed.status).toBe(200);
    const fresh = renewed.body.data.ticket as string;
    sim.state.clock.advance(3601 * 1000);
    const old = await call(sim, 'GET', '/nodes', { token: null, cookie: ticket });
    expect([old.status, old.reason]).toEqual([401, 'permission denied - invalid PVE ticket']);
    expect((await call(sim, 'GET', '/nodes', { token: null, cookie: fresh })).status).toBe(200);
  });
});

describe('401 delay', () => {
  it('delays failed authentication only', async () => {
    // The delay is the margin by which the authenticated answer must come first: 500 ms, as a
    // first request on a loaded machine (cold code paths) took a good part of 150.
    const delayMs = 500;
    const slow = await startSimulator({ vms: 1, http: true, authDelayMs: delayMs, timeScale: 0 });
    try {
      expect((await call(slow, 'GET', '/version')).status).toBe(200);
      const t = performance.now();
      const order: number[] = [];
      // Sent together: the authenticated answer must not queue behind the delayed refusal.
      const [refused, served] = await Promise.all([
        call(slow, 'GET', '/version', { token: null }).then((r) => (order.push(r.status), r)),
        call(slow, 'GET', '/version').then((r) => (order.push(r.status), r)),
      ]);
      expect(performance.now() - t).toBeGreaterThanOrEqual(delayMs - 5);
      expect([refused.status, served.status]).toEqual([401, 200]);
      expect(order).toEqual([200, 401]);
    } finally {
      await slow.close();
    }
  });
});

describe('HTTPS', () => {
  it('serves a self-signed certificate whose SHA-256 fingerprint is the one announced', async () => {
    const tls = await startSimulator({ vms: 2, authDelayMs: 0, timeScale: 0 });
    try {
      const url = new URL(tls.url);
      expect(url.protocol).toBe('https:');
      const served = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(served).toBe(tls.fingerprint);
      expect(tls.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const a = await call(tls, 'GET', '/version');
      expect(a.status).toBe(200);
      expect(a.headers.server).toBe('pve-api-daemon/3.0');
    } finally {
      await tls.close();
    }
  });
});
