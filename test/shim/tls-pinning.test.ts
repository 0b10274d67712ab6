// SPDX-License-Identifier: AGPL-3.0-or-later
// Security property: the shim sends the token only to the PVE it was told to trust: a pinned
// fingerprint that does not match (or an unknown self-signed certificate) gets no request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { rawRequest, startShim } from './helpers.js';

describe('upstream TLS', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 2, seed: 1, authDelayMs: 0, timeScale: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('the pinned fingerprint connects', async () => {
    const shim = await startShim({ upstream: sim.url, token: sim.auditToken, fingerprint: sim.fingerprint! });
    try {
      expect((await rawRequest(shim.url, 'GET', '/api2/json/nodes')).status).toBe(200);
    } finally {
      await shim.close();
    }
  });

  it('another fingerprint is refused with 502 naming the mismatch', async () => {
    const wrong = sim.fingerprint!.replace(/^../, sim.fingerprint!.startsWith('00') ? '11' : '00');
    const shim = await startShim({ upstream: sim.url, token: sim.auditToken, fingerprint: wrong });
    try {
      const res = await rawRequest(shim.url, 'GET', '/api2/json/nodes');
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).message).toMatch(/fingerprint/i);
    } finally {
      await shim.close();
    }
  });

  it('a self-signed certificate without a pin is not trusted', async () => {
    const shim = await startShim({ upstream: sim.url, token: sim.auditToken });
    try {
      const res = await rawRequest(shim.url, 'GET', '/api2/json/nodes');
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'DP_UPSTREAM_UNREACHABLE' });
    } finally {
      await shim.close();
    }
  });
});
