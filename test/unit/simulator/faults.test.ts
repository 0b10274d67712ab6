// SPDX-License-Identifier: AGPL-3.0-or-later
/** Fault injection: resets, 5xx, requests never answered, latency; deterministic from the seed. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { FaultInjector } from '../../../api-shim/simulator/faults.js';
import { call } from './helpers/http.js';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ vms: 3, http: true, authDelayMs: 0, timeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

describe('faults over real sockets', () => {
  it('a reset drops the connection; the next request passes (times: 1)', async () => {
    sim.state.setFaults({ rules: [{ path: '/version', kind: 'reset', times: 1 }] });
    await expect(call(sim, 'GET', '/version')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await call(sim, 'GET', '/version')).status).toBe(200);
  });

  it('an error rule answers its status and reason, only for its method and path', async () => {
    sim.state.setFaults({ rules: [{ path: '/nodes/*/qemu/*/pending', method: 'GET', kind: 'error', status: 503, message: 'service unavailable' }] });
    const vm = [...sim.state.vms.values()][0]!;
    const a = await call(sim, 'GET', `/nodes/${vm.node}/qemu/${vm.vmid}/pending`);
    expect([a.status, a.reason]).toEqual([503, 'service unavailable']);
    expect((await call(sim, 'GET', `/nodes/${vm.node}/qemu/${vm.vmid}/config`)).status).toBe(200);
  });

  it('a timeout never answers', async () => {
    sim.state.setFaults({ rules: [{ path: '/nodes', kind: 'timeout' }] });
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${sim.url}/api2/json/nodes`, { headers: { Authorization: `PVEAPIToken=${sim.token}` } }, () => resolve('answered'));
      req.setTimeout(150, () => {
        req.destroy();
        resolve('timed out');
      });
      req.on('error', () => undefined);
      req.end();
    });
    expect(outcome).toBe('timed out');
  });

  it('latency rules add their delay', async () => {
    sim.state.setFaults({ rules: [{ path: '/version', kind: 'latency', latencyMs: 80 }] });
    const t = performance.now();
    expect((await call(sim, 'GET', '/version')).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(75);
    sim.state.setFaults(undefined);
  });
});

describe('decisions', () => {
  const run = (seed: number) => {
    const f = new FaultInjector({ rules: [{ path: '/nodes/**', kind: 'error', rate: 0.3 }] }, seed);
    return Array.from({ length: 200 }, (_, i) => (f.decide('GET', `/nodes/pve1/qemu/${100 + i}/pending`).terminal ? 1 : 0));
  };

  it('are the same for the same seed and follow the rate', () => {
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    const hits = a.reduce<number>((s, x) => s + x, 0);
    expect(hits).toBeGreaterThan(30);
    expect(hits).toBeLessThan(90);
  });

  it('skip lets the first requests through', () => {
    const f = new FaultInjector({ rules: [{ path: '/version', kind: 'reset', skip: 2, times: 1 }] }, 1);
    expect([1, 2, 3, 4].map(() => f.decide('GET', '/version').terminal?.kind ?? 'ok')).toEqual(['ok', 'ok', 'reset', 'ok']);
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => new FaultInjector({ rules: [{ path: '/x', kind: 'reset', rate: 2 }] }, 1)).toThrow(/rate must be between 0 and 1/);
  });
});
