// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the shim forwards only the API calls pve-dataplane makes; the whole online
// audit (collectFleet + risk evidence) runs through it, anything else is 403 DP_PATH_NOT_ALLOWED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { isAllowedCall } from '../../api-shim/allow-list.js';
import { PveClient } from '../../src/api/client.js';
import { PvePermissionError } from '../../src/api/errors.js';
import { collectRiskEvidence } from '../../src/api/evidence.js';
import { collectFleet } from '../../src/api/fleet.js';
import { CSRF, rawRequest, recordingUpstream, startShim, type Seen } from './helpers.js';

describe('allow-list', () => {
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

  const refused: [string, string][] = [
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
      const before = upstream.seen.length;
      // With the CSRF token, so it is the allow-list that refuses.
      const res = await rawRequest(shim.url, method, path, { csrfpreventiontoken: CSRF });
      expect(res.status).toBe(403);
      const body = JSON.parse(res.body) as { code: string; message: string };
      expect(body.code).toBe('DP_PATH_NOT_ALLOWED');
      expect(body.message).toContain(path.replace('/api2/json', ''));
      expect(upstream.seen.length).toBe(before);
    });
  }

  it('the writes of the migration engine are on the list (and nothing close to them)', () => {
    expect(isAllowedCall('POST', '/nodes/pve1/qemu/100/config')).toBe(true);
    expect(isAllowedCall('PUT', '/nodes/pve1/qemu/100/config')).toBe(false);
    expect(isAllowedCall('POST', '/nodes/pve1/qemu/100/status/reboot')).toBe(true);
    expect(isAllowedCall('POST', '/nodes/pve1/qemu/100/status/current')).toBe(false);
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/12/config')).toBe(false);
    expect(isAllowedCall('GET', '/nodes/pve1/qemu/100/config/extra')).toBe(false);
  });
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
