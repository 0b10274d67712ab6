// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The simulator serves every endpoint pve-dataplane calls: the paths are read from the client's
 * own sources (src/api/endpoints, the evidence collector, the migration target), so a new call
 * without a simulated answer fails here. Every route also has its PVE 9.1 parameter schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { endpointParams } from '../../../api-shim/simulator/schema/validate.js';
import { ENDPOINTS } from '../../../api-shim/simulator/schema/endpoints.js';
import { ALL_ROUTES } from '../../../api-shim/simulator/server.js';
import { call } from './helpers/http.js';

const SRC = new URL('../../../src/', import.meta.url);
const SOURCES = [
  ...readdirSync(new URL('api/endpoints/', SRC)).map((f) => `api/endpoints/${f}`),
  'audit/evidence.ts',
  'audit/fleet.ts',
  'api/tasks.ts',
  'migration/api-target.ts',
];

/** `client.get<T>(apiPath\`/nodes/${node}/x\`` and friends -> method + path template. */
function clientCalls(): Array<{ method: string; template: string; file: string }> {
  const out: Array<{ method: string; template: string; file: string }> = [];
  const re = /client\.(get|post|put|delete|requestEnvelope)<[^(]*?>\(\s*(?:'(GET|POST|PUT|DELETE)',\s*)?(?:apiPath)?[`']([^`']+)[`']/g;
  for (const file of SOURCES) {
    const text = readFileSync(new URL(file, SRC), 'utf8');
    for (const m of text.matchAll(re)) out.push({ method: m[2] ?? m[1]!.toUpperCase(), template: m[3]!, file });
  }
  return out;
}

let sim: RunningSimulator;

beforeAll(async () => {
  const vm = 'agent: 1\nname: w\nostype: win10\nsata0: local-lvm:vm-100-disk-0,size=8G\n';
  sim = await startSimulator({ fleet: fleetFromConfigs([{ vmid: 100, text: vm, node: 'pve1', status: 'running', guest: { agentRunning: true } }], { nodes: ['pve1'] }), http: true, authDelayMs: 0, timeScale: 0 });
});
afterAll(async () => {
  await sim?.close();
});

describe('coverage', () => {
  it('finds the client calls in the sources (the scan itself works)', () => {
    const templates = clientCalls().map((c) => `${c.method} ${c.template}`);
    expect(templates).toEqual(expect.arrayContaining(['GET /nodes/${node}/qemu/${vmid}/pending', 'POST /nodes/${node}/qemu/${vmid}/agent/exec', 'GET /nodes/${enc(node)}/vzdump/defaults']));
  });

  it('every endpoint the client calls is answered (no 501)', async () => {
    const task = await call(sim, 'POST', '/nodes/pve1/qemu/100/config', { form: { name: 'x' } });
    const values: Record<string, string> = { node: 'pve1', 'enc(node)': 'pve1', vmid: '100', upid: task.body.data, action: 'start', storage: 'local-lvm' };
    const missing: string[] = [];
    for (const c of clientCalls()) {
      const path = c.template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (!(name in values)) throw new Error(`${c.file}: no test value for \${${name}} in ${c.template}`);
        return encodeURIComponent(values[name]!);
      });
      const a = await call(sim, c.method, path, c.method === 'GET' ? {} : { form: {} });
      if (a.status === 501) missing.push(`${c.method} ${c.template} (${c.file})`);
    }
    expect(missing).toEqual([]);
  });

  it('routes and the schema list agree, and every route has its PVE 9.1 parameter schema', () => {
    const routes = ALL_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(routes).toEqual(ENDPOINTS.map((e) => `${e.method} ${e.path}`).sort());
    expect(routes.filter((r) => !endpointParams(r.split(' ')[0]!, r.split(' ')[1]!))).toEqual([]);
  });
});
