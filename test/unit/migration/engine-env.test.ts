// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The engine reads the env once without reading every VM (collectEnv) and each VM right before
 * writing it: its analysis of a VM must be the one it made with the env of a whole-fleet read
 * (collectFleet, as the plan's audit reads it), also for a token that cannot see every storage
 * (those disks' facts unknown with the privilege named, never "no such storage"), or such VMs
 * would fail as "changed since the plan".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../api-shim/simulator/index.js';
import { PveClient } from '../../../src/api/client.js';
import { analyzeVm, collectEnv, collectFleet } from '../../../src/audit/index.js';
import { createApiTarget } from '../../../src/migration/api-target.js';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ vms: 40, seed: 3, http: true, authDelayMs: 0, timeScale: 0 });
});
afterAll(() => sim?.close());

describe('the engine analyses a VM as the audit did', () => {
  it.each(['noDatastoreToken', 'token'] as const)('with the %s, VM by VM and disk by disk, reading no VM for the env', async (token) => {
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim[token] }, concurrency: 4 });
    const fleet = await collectFleet(client);
    const paths: string[] = [];
    const get = client.get.bind(client);
    client.get = ((path: string, ...rest: unknown[]) => (paths.push(path), (get as (...a: unknown[]) => unknown)(path, ...rest))) as typeof client.get;
    const read = await collectEnv(client);
    expect(paths.filter((p) => /\/qemu\/\d+/.test(p))).toEqual([]);
    client.get = get;
    const target = createApiTarget(client, { env: read.env, storageAccess: read.storageAccess, permissions: read.permissions });
    let unknownStorage = 0;
    for (const { vmid, node } of fleet.inputs) {
      const live = await target.readVm(node!, vmid);
      const report = target.analyze(live);
      expect(report, `VM ${vmid}`).toEqual(analyzeVm(live.input, fleet.env));
      unknownStorage += report.disks.filter((d) => JSON.stringify(d).includes('Datastore.Audit')).length;
    }
    // The limited token really has disks on storages it cannot see.
    if (token === 'noDatastoreToken') expect(unknownStorage).toBeGreaterThan(0);
    else expect(unknownStorage).toBe(0);
  });
});
