// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the shim forwards only the API calls pve-dataplane makes; the whole online
// audit (collectFleet + risk evidence) runs through it, anything else is 403 DP_PATH_NOT_ALLOWED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import { PvePermissionError } from '../../src/api/errors.js';
import { collectRiskEvidence } from '../../src/audit/evidence.js';
import { collectFleet } from '../../src/audit/fleet.js';
import { ALLOWED_QUERIES, ALLOWED_READS, isAllowedCall } from '../../api-shim/allow-list.js';
import { loadFleetAudit } from '../../panel/data/fleet-audit.js';
import { CSRF, parseAnswers, rawRequest, rawSocket, shimOverRecordingUpstream, startShim } from './helpers.js';

describe('allow-list', () => {
  const s = shimOverRecordingUpstream();

  const refused: [string, string][] = [
    ['GET', '/api2/json/version'],
    ['GET', '/api2/json/nodes/pve1/tasks'],
    ['GET', '/api2/json/nodes/pve1/qemu/100/agent/exec-status'],
    ['GET', '/api2/json/nodes/pve1/qemu/100/status/current'],
    ['GET', '/api2/json/access/users'],
    ['GET', '/api2/json/access/users/root@pam/token'],
    ['POST', '/api2/json/access/users'],
    ['POST', '/api2/json/nodes/pve1/execute'],
    ['GET', '/api2/json/nodes/pve1/storage/local/content'],
    ['DELETE', '/api2/json/nodes/pve1/qemu/100'],
    ['PUT', '/api2/json/nodes/pve1/qemu/100/resize'],
    ['POST', '/api2/json/nodes/pve1/qemu/100/status/suspend'],
    ['GET', '/api2/json/nodes/pve1/qemu/100/vncproxy'],
    ['POST', '/api2/json/access/ticket'],
    ['GET', '/api2/json/'],
  ];
  for (const [method, path] of refused) {
    it(`${method} ${path} -> 403 DP_PATH_NOT_ALLOWED, nothing sent upstream`, async () => {
      const before = s.upstream.seen.length;
      // With the CSRF token, so it is the allow-list that refuses.
      const res = await rawRequest(s.shim.url, method, path, { csrfpreventiontoken: CSRF });
      expect(res.status).toBe(403);
      const body = JSON.parse(res.body) as { code: string; message: string };
      expect(body.code).toBe('DP_PATH_NOT_ALLOWED');
      expect(body.message).toContain(path.replace('/api2/json', '').replace(/\/$/, '') || '/');
      expect(s.upstream.seen.length).toBe(before);
    });
  }

  it('no write is on the list, and nothing close to the reads', () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect(isAllowedCall(m, '/nodes/pve1/qemu/100/config')).toBe(false);
      expect(isAllowedCall(m, '/nodes/pve1/qemu/100/status/reboot')).toBe(false);
      expect(isAllowedCall(m, '/nodes/pve1/qemu/100/agent/exec')).toBe(false);
    }
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/100/config')).toBe(true);
    expect(isAllowedCall('HEAD', '/nodes/pve1/qemu/100/config')).toBe(true);
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/12/config')).toBe(false);
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/100/config/extra')).toBe(false);
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/100/agent/exec-status')).toBe(false);
  });
});

// The attack: a call on the list carrying parameters the audit never sends, to reach what the
// path alone does not (another snapshot's config, a current config, a syslog flood), or a query
// that pveproxy splits differently than the shim (URI's query_form splits on ';' too).
describe('allow-list-query-parameters', () => {
  const s = shimOverRecordingUpstream();
  const cases: [name: string, path: string, status: number, code: string][] = [
    ['query-unknown-parameter', '/api2/json/nodes/pve1/qemu/100/config?current=1', 403, 'DP_PATH_NOT_ALLOWED'],
    ['query-parameter-of-another-call', '/api2/json/cluster/resources?full=1', 403, 'DP_PATH_NOT_ALLOWED'],
    ['query-semicolon-split', '/api2/json/nodes/pve1/qemu?full=1;current=1', 400, 'DP_BAD_PATH'],
    ['query-duplicate-parameter', '/api2/json/cluster/resources?type=vm&type=storage', 400, 'DP_BAD_PATH'],
    ['query-encoded-nul', '/api2/json/nodes/pve1/syslog?limit=10&since=%00', 400, 'DP_BAD_PATH'],
    ['query-encoded-newline', '/api2/json/cluster/resources?type=vm%0d%0aX-Injected:%201', 400, 'DP_BAD_PATH'],
    ['query-bad-percent-encoding', '/api2/json/cluster/resources?type=%zz', 400, 'DP_BAD_PATH'],
    ['query-parameter-on-a-call-without-any', '/api2/json/nodes/pve1/qemu/100/pending?vmid=101', 403, 'DP_PATH_NOT_ALLOWED'],
  ];
  for (const [name, path, status, code] of cases) {
    it(`${name}: ${path} -> ${status} ${code}, nothing sent upstream`, async () => {
      const before = s.upstream.seen.length;
      const res = await rawRequest(s.shim.url, 'GET', path, {});
      expect(res.status).toBe(status);
      const body = JSON.parse(res.body) as { code: string; message: string };
      expect(body.code).toBe(code);
      expect(body.message).toMatch(/^refused query: .*nothing was sent to PVE$/);
      expect(s.upstream.seen.length).toBe(before);
    });
  }

  it('the parameters the audit sends pass, encoded as the client encodes them', async () => {
    for (const path of [
      '/api2/json/cluster/resources?type=vm',
      '/api2/json/nodes/pve1/qemu?full=1',
      '/api2/json/nodes/pve1/syslog?since=2026-12-07%2020%3A00%3A00&limit=5000',
      '/api2/json/nodes/pve1/qemu/100/rrddata?timeframe=hour&cf=AVERAGE',
      '/api2/json/nodes/pve1/qemu/100/config?snapshot=before%3Bupgrade',
      '/api2/json/cluster/resources',
      '/api2/json/cluster/resources?',
    ]) {
      const before = s.upstream.seen.length;
      const res = await rawRequest(s.shim.url, 'GET', path, {});
      expect(res.status, path).toBe(200);
      expect(s.upstream.seen.length, path).toBe(before + 1);
    }
  });
});

// The attack: with a writable shim, anyone who could read /dp/config had the CSRF token and could
// POST .../agent/exec (a command in a guest), .../config or .../status/stop through the proxy with
// the shim's token. The proxy now forwards no write at all, with or without the token.
describe('allow-list-no-proxied-writes', () => {
  const s = shimOverRecordingUpstream();

  const writes: [string, string, string][] = [
    ['POST', '/api2/json/nodes/pve1/qemu/100/agent/exec', 'command=lsblk'],
    ['POST', '/api2/json/nodes/pve1/qemu/100/config', 'scsihw=lsi&digest=0123'],
    ['PUT', '/api2/json/nodes/pve1/qemu/100/config', 'scsihw=lsi'],
    ['POST', '/api2/json/nodes/pve1/qemu/100/status/stop', ''],
    ['POST', '/api2/json/nodes/pve1/qemu/100/status/reboot', ''],
    ['DELETE', '/api2/json/nodes/pve1/qemu/100', ''],
    ['PATCH', '/api2/json/cluster/resources', 'x=1'],
    ['POST', '/api2/json/access/ticket', 'username=root@pam&password=x'],
  ];
  for (const [method, path, body] of writes) {
    it(`${method} ${path} with the shim's CSRF token -> 403 DP_PATH_NOT_ALLOWED, nothing sent upstream`, async () => {
      const { text } = await rawSocket(
        s.shim.url,
        `${method} ${path} HTTP/1.1\r\nHost: ${s.host}\r\nCSRFPreventionToken: ${CSRF}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        150,
      );
      const [answer] = parseAnswers(text);
      expect(answer?.status).toBe(403);
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'DP_PATH_NOT_ALLOWED' });
      expect(JSON.parse(answer!.body).message).toContain('forwards no writes');
      expect(s.upstream.seen).toEqual([]);
    });
  }
});

describe('the online audit runs entirely through the shim', () => {
  let sim: RunningSimulator;
  let shim: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    sim = await startSimulator({ vms: 12, seed: 3, authDelayMs: 0, timeScale: 0 });
    shim = await startShim({ upstream: sim.url, token: sim.auditToken, fingerprint: sim.fingerprint!, readOnly: true });
  });
  afterAll(async () => {
    await shim.close();
    await sim.close();
  });

  it('collectFleet and the risk evidence get every answer (no request refused by the shim)', async () => {
    // The browser's view: same-origin, no credentials of its own.
    const client = new PveClient({ baseUrl: shim.url, auth: { kind: 'same-origin' }, retries: 0 });
    // Every request the core makes, with what the shim answered: a refusal must not hide in a
    // partial fact (evidence reports an unreadable endpoint as "not checked", not as an error).
    const refused: string[] = [];
    const send = client.requestEnvelope.bind(client);
    client.requestEnvelope = (async (method, path, params, options) => {
      try {
        return await send(method, path, params, options);
      } catch (err) {
        if (/pve-dataplane|DP_/.test((err as Error).message)) refused.push(`${method} ${path}`);
        throw err;
      }
    }) as typeof client.requestEnvelope;
    const fleet = await collectFleet(client);
    expect(fleet.inputs.length).toBe(12);
    const refusedByShim = fleet.errors.filter((e) => /pve-dataplane|DP_/.test(e.message));
    expect(refusedByShim).toEqual([]);
    const evidence = await collectRiskEvidence(client, {
      vms: fleet.inputs.map((i) => ({ vmid: i.vmid, node: i.node })),
      storages: fleet.env.storages,
    });
    expect(evidence.size).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });

  it('an endpoint off the list is refused as a permission error the client understands', async () => {
    const client = new PveClient({ baseUrl: shim.url, auth: { kind: 'same-origin' }, retries: 0 });
    const err = await client.get('/access/users').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PvePermissionError);
    expect((err as Error).message).toContain('not an API call pve-dataplane makes');
  });
});

describe("every rule of the list is a call of the panel's load (none is left over for an attacker)", () => {
  // A generated fleet loaded with the admin token (backup jobs: the vzdump defaults), and a VM with
  // a RAM snapshot (the evidence reads its config) loaded with the audit token (no Sys.Audit: the
  // QEMU version falls back to the machine list).
  const conf =
    'boot: order=scsi0\nmemory: 2048\nparent: before\nscsi0: local-lvm:vm-100-disk-0,size=8G\nscsihw: lsi\n\n' +
    '[before]\nmemory: 2048\nscsi0: local-lvm:vm-100-disk-0,size=8G\nscsihw: lsi\nsnaptime: 1700000000\nvmstate: local-lvm:vm-100-state-before\n';
  let generated: RunningSimulator;
  let snapshot: RunningSimulator;
  beforeAll(async () => {
    generated = await startSimulator({ vms: 12, seed: 3, authDelayMs: 0, timeScale: 0 });
    snapshot = await startSimulator({ fleet: fleetFromConfigs([{ vmid: 100, node: 'pve1', text: conf, status: 'running' }]), authDelayMs: 0, timeScale: 0 });
  });
  afterAll(async () => {
    await generated.close();
    await snapshot.close();
  });

  it('the union of the calls of both loads covers every rule and every query parameter of a rule', async () => {
    const paths: string[] = [];
    const queries: [path: string, name: string][] = [];
    for (const [sim, token] of [
      [generated, generated.token],
      [snapshot, snapshot.auditToken],
    ] as const) {
      const shim = await startShim({ upstream: sim.url, token, fingerprint: sim.fingerprint!, readOnly: true });
      try {
        const client = new PveClient({ baseUrl: shim.url, auth: { kind: 'same-origin' }, retries: 0 });
        const send = client.requestEnvelope.bind(client);
        const record = (path: string, params: object | undefined): void => {
          paths.push(path);
          for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) queries.push([path, k]);
        };
        client.requestEnvelope = (async (method, path, params, options) => {
          record(path, params);
          return send(method, path, params, options);
        }) as typeof client.requestEnvelope;
        // The metrics export is read as text (parsed a slice at a time).
        const getText = client.getText.bind(client);
        client.getText = (path, params, options) => {
          record(path, params);
          return getText(path, params, options);
        };
        const audit = await loadFleetAudit(client);
        expect(audit.report.vms.length).toBe(sim === generated ? 12 : 1);
      } finally {
        await shim.close();
      }
    }
    const unused = ALLOWED_READS.filter((re) => !paths.some((p) => re.test(p.split('?')[0]!)));
    expect(unused.map(String)).toEqual([]);
    const unusedQueries = [...ALLOWED_QUERIES].flatMap(([re, names]) =>
      [...names].filter((n) => !queries.some(([p, k]) => k === n && re.test(p))).map((n) => `${String(re)} ${n}`),
    );
    expect(unusedQueries).toEqual([]);
  });
});
