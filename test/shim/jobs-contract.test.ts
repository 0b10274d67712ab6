// SPDX-License-Identifier: AGPL-3.0-or-later
// The contract module keeps types and schemas in step: what the code builds (before the route
// serialises it through the schema, which would silently drop a field the schema lacks) must
// validate against the schema with no extra field. A field added to a type and to the code but
// not to the schema fails here instead of vanishing on the wire.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobListItemSchema, jobViewSchema, planAnswerSchema } from '../../api-shim/contracts/jobs.js';
import { JobManager } from '../../api-shim/jobs/manager.js';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { PveClient } from '../../src/api/client.js';
import http from 'node:http';

const ajv = new Ajv({ strict: false, allErrors: true });
const check = (schema: object, value: unknown): string[] => {
  const validate = ajv.compile(schema);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
};

describe('jobs contract', () => {
  let sim: RunningSimulator;
  let manager: JobManager;
  let client: PveClient;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 6, seed: 9, http: true, authDelayMs: 0, timeScale: 0.001 });
    client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, httpAgent: new http.Agent({ keepAlive: true }) });
    manager = new JobManager({ stateDir: mkdtempSync(join(tmpdir(), 'dp-contract-')), pve: sim.url, warn: () => {}, engine: { pollMs: 10 } });
  });
  afterAll(async () => {
    await manager.close();
    await sim.state.settle();
    await sim.close();
  });

  it('a plan, a job and its list item as built validate against their schemas, with no field the schema lacks', async () => {
    const vms = [...sim.state.vms.values()].map((v) => ({ vmid: v.vmid, node: v.node }));
    const plan = await manager.createPlan(client, { vms }, 'root@pam!sim', false);
    expect(check(planAnswerSchema, plan)).toEqual([]);
    const job = manager.startApply(client, { planId: plan.id!, reboot: 'never' }, 'root@pam!sim');
    await job.done;
    expect(check(jobViewSchema, job.view())).toEqual([]);
    expect(check(jobListItemSchema, job.listItem())).toEqual([]);
    // The checker does catch a field the schema lacks.
    expect(check(jobListItemSchema, { ...job.listItem(), extra: 1 })).not.toEqual([]);
  });
});
