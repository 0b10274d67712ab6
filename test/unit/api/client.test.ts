// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterEach, describe, expect, it } from 'vitest';
import { PveClient, type PveClientOptions } from '../../../src/api/client.js';
import { fetchTransport } from '../../../src/api/fetch-transport.js';
import { nodeTransport } from '../../../src/node/http-transport.js';
import { PveAuthError, PveConnectionError, PveParamError } from '../../../src/api/errors.js';
import { type FakePve, fail, hang, ok, reset, startFakePve } from './helpers/fake-pve.js';

const TOKEN = 'audit@pve!dataplane=1f2e3d4c-0000-4000-8000-123456789abc';

let server: FakePve | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/**
 * Every behaviour holds with each transport: axios (the default), Node's own (the CLI's and the
 * shim's) and fetch (the panel's; here Node's fetch, the same code the browser runs).
 */
const TRANSPORTS: Array<[string, () => Partial<PveClientOptions>]> = [
  ['axios', () => ({})],
  ['node transport', () => ({ transport: nodeTransport() })],
  ['fetch transport', () => ({ transport: fetchTransport() })],
];

for (const [transportName, transport] of TRANSPORTS) {
  describe(transportName, () => {
    function tokenClient(url: string, extra: Partial<ConstructorParameters<typeof PveClient>[0]> = {}): PveClient {
      return new PveClient({ baseUrl: url, auth: { kind: 'token', token: TOKEN }, retryDelayMs: 5, ...transport(), ...extra });
    }

    describe('PveClient: envelope, parameters, token auth', () => {
      it('sends the PVEAPIToken header, unwraps data, puts GET params in the query and writes in a form body', async () => {
        server = await startFakePve((req, reply, seen) => {
          if (seen.method === 'GET') return ok(reply, { echo: seen.url });
          return ok(reply, 'UPID:pve:00000AA5:0000CAE5:5FBE5E5F:qmconfig:100:audit@pve!dataplane:');
        });
        const client = tokenClient(server.url);
        const got = await client.get<{ echo: string }>('/nodes/pve/qemu', { full: true, skip: undefined });
        expect(got).toEqual({ echo: '/nodes/pve/qemu?full=1' });
        const upid = await client.post<string>('/nodes/pve/qemu/100/config', {
          scsi0: 'local-lvm:vm-100-disk-0,iothread=1,size=32G',
          delete: 'ide0,sata1',
          digest: 'abc',
        });
        expect(upid).toMatch(/^UPID:pve:/);
        const [g, p] = server.requests;
        expect(g!.headers['authorization']).toBe(`PVEAPIToken=${TOKEN}`);
        expect(p!.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(p!.body).toEqual({ scsi0: 'local-lvm:vm-100-disk-0,iothread=1,size=32G', delete: 'ide0,sata1', digest: 'abc' });
        // API tokens need no CSRF token, even on writes.
        expect(p!.headers['csrfpreventiontoken']).toBeUndefined();
      });

      it('accepts a base URL that already ends in /api2/json', async () => {
        server = await startFakePve((_req, reply) => ok(reply, 7));
        expect(await tokenClient(`${server.url}/api2/json/`).get('/version')).toBe(7);
      });

      it('refuses a malformed token before any request, without echoing the secret', () => {
        expect(() => new PveClient({ baseUrl: 'https://x', auth: { kind: 'token', token: 'root@pam=s3cr3t' } })).toThrow(
          /token id part `!TOKENID` is missing/,
        );
        try {
          new PveClient({ baseUrl: 'https://x', auth: { kind: 'token', token: 'root@pam!t' } });
        } catch (err) {
          expect((err as Error).message).toMatch(/`=SECRET` part is missing/);
        }
      });

      it('names a non-PVE answer instead of returning undefined', async () => {
        server = await startFakePve((_req, reply) => reply.header('content-type', 'text/html').send('<html>proxy</html>'));
        await expect(tokenClient(server.url).get('/version')).rejects.toThrow(/not a PVE API envelope/);
      });
    });

    describe('PveClient: ticket and same-origin auth', () => {
      function ticketServer(): Promise<FakePve> {
        let issued = 0;
        return startFakePve((_req, reply, seen) => {
          if (seen.url === '/access/ticket') {
            if (seen.body['password'] !== 'secret' && !seen.body['password']?.startsWith('PVE:root@pam:')) {
              return fail(reply, 401, 'authentication failure');
            }
            issued++;
            return ok(reply, {
              username: 'root@pam',
              ticket: `PVE:root@pam:6500000${issued}::sig+/${issued}==`,
              CSRFPreventionToken: `6500000${issued}:csrf${issued}`,
              cap: { vms: { 'VM.Audit': 1 } },
            });
          }
          const cookie = String(seen.headers['cookie'] ?? '');
          if (!cookie.startsWith('PVEAuthCookie=PVE:root@pam:')) return fail(reply, 401, 'No ticket');
          if (seen.method !== 'GET' && !String(seen.headers['csrfpreventiontoken'] ?? '').includes(':csrf')) {
            return fail(reply, 401, 'Permission denied - invalid csrf token');
          }
          return ok(reply, null);
        });
      }

      it('logs in once, sends the cookie on every request and the CSRF token only on writes', async () => {
        server = await ticketServer();
        const client = new PveClient({ baseUrl: server.url, auth: { kind: 'ticket', username: 'root@pam', password: 'secret' }, ...transport() });
        await Promise.all([client.get('/nodes'), client.get('/version'), client.put('/nodes/pve/qemu/100/config', { name: 'x' })]);
        const logins = server.requests.filter((r) => r.url === '/access/ticket');
        expect(logins).toHaveLength(1);
        expect(logins[0]!.body).toEqual({ username: 'root@pam', password: 'secret' });
        const rest = server.requests.filter((r) => r.url !== '/access/ticket');
        for (const r of rest) expect(r.headers['cookie']).toBe('PVEAuthCookie=PVE:root@pam:65000001::sig+/1==');
        expect(rest.find((r) => r.method === 'GET')!.headers['csrfpreventiontoken']).toBeUndefined();
        expect(rest.find((r) => r.method === 'PUT')!.headers['csrfpreventiontoken']).toBe('65000001:csrf1');
      });

      it('renews the ticket (posting it as password) once it is older than the renewal age', async () => {
        server = await ticketServer();
        let now = 1_000_000;
        const client = new PveClient({
          baseUrl: server.url,
          auth: { kind: 'ticket', username: 'root@pam', password: 'secret' },
          now: () => now,
        });
        await client.get('/nodes');
        now += 59 * 60 * 1000;
        await client.get('/nodes');
        expect(server.requests.filter((r) => r.url === '/access/ticket')).toHaveLength(1);
        now += 2 * 60 * 1000;
        await client.post('/nodes/pve/qemu/100/status/start');
        const logins = server.requests.filter((r) => r.url === '/access/ticket');
        expect(logins).toHaveLength(2);
        expect(logins[1]!.body['password']).toBe('PVE:root@pam:65000001::sig+/1==');
        expect(server.requests.at(-1)!.headers['csrfpreventiontoken']).toBe('65000002:csrf2');
      });

      it('turns a bad password into PveAuthError with the reason phrase', async () => {
        server = await ticketServer();
        const client = new PveClient({ baseUrl: server.url, auth: { kind: 'ticket', username: 'root@pam', password: 'nope' }, ...transport() });
        const err = await client.get('/nodes').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PveAuthError);
        expect((err as PveAuthError).message).toBe('authentication failure (401)');
      });

      it('same-origin: sends no auth header and the page CSRF token on writes only', async () => {
        server = await startFakePve((_req, reply) => ok(reply, null));
        let csrf = 'A:1';
        const client = new PveClient({ baseUrl: server.url, auth: { kind: 'same-origin', csrfToken: () => csrf }, ...transport() });
        await client.get('/nodes');
        csrf = 'B:2';
        await client.delete('/nodes/pve/qemu/100/snapshot/s1', { force: true });
        const [g, d] = server.requests;
        expect(g!.headers['authorization']).toBeUndefined();
        expect(g!.headers['csrfpreventiontoken']).toBeUndefined();
        expect(d!.headers['csrfpreventiontoken']).toBe('B:2');
        expect(d!.url).toBe('/nodes/pve/qemu/100/snapshot/s1?force=1');
      });
    });

    describe('PveClient: concurrency, retries, timeouts, abort', () => {
      it('never has more requests in flight than the limit', async () => {
        server = await startFakePve((_req, reply) => ok(reply, 1), { latencyMs: 15 });
        const client = tokenClient(server.url, { concurrency: 3 });
        const peaks: number[] = [];
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => client.get(`/nodes/pve/qemu/${100 + i}/pending`).then(() => peaks.push(client.inFlight))),
        );
        expect(server.requests).toHaveLength(20);
        expect(server.maxInFlight).toBe(3);
        expect(Math.max(...peaks)).toBeLessThanOrEqual(3);
      });

      it.each([
        ['a connection reset', 'reset'],
        ['a 503', '503'],
        ['an unexplained 500', '500'],
        ['a timeout', 'timeout'],
      ])('retries a GET after %s and returns the later answer', async (_label, fault) => {
        let calls = 0;
        server = await startFakePve((req, reply) => {
          calls++;
          if (calls === 1) {
            if (fault === 'reset') return reset(req, reply);
            if (fault === 'timeout') return hang(reply);
            return fail(reply, Number(fault), 'proxy handler failed');
          }
          return ok(reply, 'fine');
        });
        // Only the hung first request needs a short limit, and the retry's answer must come within
        // it too: 600 ms, not 300, which a stall on a loaded machine could use up (a third request).
        const client = tokenClient(server.url, fault === 'timeout' ? { timeoutMs: 600 } : {});
        expect(await client.get('/nodes')).toBe('fine');
        expect(calls).toBe(2);
        expect(client.stats).toEqual({ sent: 2, retries: 1 });
      });

      it('gives up after the configured retries with the last error', async () => {
        server = await startFakePve((req, reply) => reset(req, reply));
        const client = tokenClient(server.url, { retries: 2 });
        const err = await client.get('/nodes').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PveConnectionError);
        expect((err as PveConnectionError).kind).toBe('reset');
        expect(server.requests).toHaveLength(3);
      });

      it.each([
        ['reset', 'POST'],
        ['503', 'PUT'],
        ['timeout', 'POST'],
        ['reset', 'DELETE'],
      ])('never re-sends a write after a %s (%s) and says the change may have been applied', async (fault, method) => {
        server = await startFakePve((req, reply) => {
          if (fault === 'reset') return reset(req, reply);
          if (fault === 'timeout') return hang(reply);
          return fail(reply, 503, 'Service Unavailable');
        });
        const client = tokenClient(server.url, { timeoutMs: 300 });
        const err = await client
          .request(method as 'POST', '/nodes/pve/qemu/100/config', { scsihw: 'virtio-scsi-single', digest: 'd' })
          .catch((e: unknown) => e);
        expect(server.requests).toHaveLength(1);
        expect(err).toBeInstanceOf(fault === '503' ? Error : PveConnectionError);
        if (err instanceof PveConnectionError) {
          expect(err.maybeSent).toBe(true);
          expect(err.message).toMatch(/may have been applied - re-read before retrying/);
        }
      });

      it('does not retry answers PVE explained (400, 401, typed 500s)', async () => {
        server = await startFakePve((_req, reply) =>
          fail(reply, 400, 'Parameter verification failed.', { errors: { vmid: 'invalid format\n' } }),
        );
        const err = await tokenClient(server.url).get('/cluster/nextid', { vmid: 99 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PveParamError);
        expect(server.requests).toHaveLength(1);
      });

      it('reports a refused connection as "server offline?" and a timeout with its limit', async () => {
        server = await startFakePve((_req, reply) => hang(reply));
        const url = server.url;
        const slow = await tokenClient(url, { timeoutMs: 100, retries: 0 }).get('/nodes').catch((e: unknown) => e);
        expect(slow).toBeInstanceOf(PveConnectionError);
        expect((slow as PveConnectionError).kind).toBe('timeout');
        expect((slow as Error).message).toBe('Connection error - Timeout. (no answer within 100 ms)');
        await server.close();
        server = null;
        const gone = await tokenClient(url, { retries: 0 }).get('/nodes').catch((e: unknown) => e);
        expect((gone as PveConnectionError).kind).toBe('refused');
        expect((gone as PveConnectionError).maybeSent).toBe(false);
        expect((gone as Error).message).toMatch(/^Connection error - server offline\? \(ECONNREFUSED\)$/);
      });

      it('sends a request given `after` only once that settles, and aborts it while it waits without sending', async () => {
        server = await startFakePve((_req, reply) => ok(reply, 1));
        const client = tokenClient(server.url);
        let open = (): void => {};
        const gate = new Promise<void>((r) => (open = r));
        const later = client.get('/later', undefined, { after: gate });
        await client.get('/now');
        expect(server.requests.map((r) => r.url)).toEqual(['/now']);
        open();
        await later;
        expect(server.requests.map((r) => r.url)).toEqual(['/now', '/later']);
        const ac = new AbortController();
        const waiting = client.get('/never', undefined, { after: new Promise(() => {}), signal: ac.signal }).catch((e: unknown) => e);
        ac.abort();
        expect(((await waiting) as PveConnectionError).kind).toBe('aborted');
        expect(server.requests).toHaveLength(2);
      });

      it('aborts a running request and queued ones with an AbortSignal, without retrying', async () => {
        server = await startFakePve((_req, reply) => hang(reply));
        const client = tokenClient(server.url, { concurrency: 1 });
        const ac = new AbortController();
        const first = client.get('/a', undefined, { signal: ac.signal }).catch((e: unknown) => e);
        const queued = client.get('/b', undefined, { signal: ac.signal }).catch((e: unknown) => e);
        // Abort once the first request is at the server (however long a loaded machine takes).
        while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
        ac.abort();
        for (const err of await Promise.all([first, queued])) {
          expect(err).toBeInstanceOf(PveConnectionError);
          expect((err as PveConnectionError).kind).toBe('aborted');
        }
        expect(server.requests).toHaveLength(1);
      });
    });
  });
}
