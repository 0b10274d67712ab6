// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Paths, parameters and result formats as pve-http-server (AnyEvent.pm handle_api2_request,
 * Formatter/Standard.pm) and pve-common's RESTHandler (find_handler) treat them: the web UI's
 * `_dc` cache buster, empty path fragments, `localhost`, unknown parameters, and the `extjs`
 * envelope the web UI reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call } from './helpers/http.js';

let sim: RunningSimulator;
const VM = 'name: a\nscsi0: local-lvm:vm-100-disk-0,iothread=1,size=8G\nscsihw: virtio-scsi-single\n';

beforeAll(async () => {
  sim = await startSimulator({
    fleet: fleetFromConfigs([
      { vmid: 100, text: VM, node: 'pve1' },
      { vmid: 200, text: VM.replace('100', '200'), node: 'pve2' },
    ], { nodes: ['pve1', 'pve2'] }),
    http: true, authDelayMs: 0, timeScale: 0, shuffleKeys: false,
  });
});
afterAll(async () => {
  await sim?.close();
});

describe('parameters', () => {
  it('drops the web UI cache buster _dc before validation (was 400 "Parameter verification failed")', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/qemu/100/config?_dc=1733580000000');
    expect(a.status).toBe(200);
    expect(a.body.data.scsi0).toBe('local-lvm:vm-100-disk-0,iothread=1,size=8G');
    expect((await call(sim, 'GET', '/version?_dc=1')).status).toBe(200);
  });

  it('refuses an unknown parameter with 400 and the per-parameter errors object', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/qemu/100/config?foo=1');
    expect(a.status).toBe(400);
    expect(a.reason).toBe('Parameter verification failed.');
    expect(a.body).toEqual({
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { foo: 'property is not defined in schema and the schema does not allow additional properties' },
    });
  });

  it('refuses a query parameter that repeats a path parameter with another value', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/qemu/100/config?vmid=101');
    expect(a.status).toBe(400);
    expect(a.body.errors).toEqual({ vmid: 'duplicate parameter (already defined in URI) with conflicting values!' });
    expect((await call(sim, 'GET', '/nodes/pve1/qemu/100/config?vmid=100')).status).toBe(200);
  });
});

describe('paths', () => {
  it.each(['//cluster/resources', '/cluster/resources/', '/cluster//resources', '///cluster/resources//'])('empty fragments are skipped: %s', async (path) => {
    const a = await call(sim, 'GET', `${path}?type=node`);
    expect(a.status).toBe(200);
    expect(a.body.data.map((n: { node: string }) => n.node).sort()).toEqual(['pve1', 'pve2']);
  });

  it('an unknown path is still 501, named as requested', async () => {
    const a = await call(sim, 'GET', '//cluster/nothing');
    expect(a.status).toBe(501);
    expect(a.body.message).toBe("Method 'GET //cluster/nothing' not implemented\n");
  });

  it('/nodes/localhost/... is served by the node answering (the first node), not "hostname lookup failed"', async () => {
    const status = await call(sim, 'GET', '/nodes/localhost/status');
    expect(status.status).toBe(200);
    const config = await call(sim, 'GET', '/nodes/localhost/qemu/100/config');
    expect(config.status).toBe(200);
    // VM 200 lives on pve2: localhost is pve1, so the config is not there (PVE's 500).
    const other = await call(sim, 'GET', '/nodes/localhost/qemu/200/config');
    expect(other.status).toBe(500);
    expect(other.body.message).toBe("Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist\n");
  });

  it('a node that does not exist is still 500 "hostname lookup failed"', async () => {
    const a = await call(sim, 'GET', '/nodes/nosuch/status');
    expect(a.status).toBe(500);
    expect(a.body.message).toMatch(/^hostname lookup 'nosuch' failed/);
  });
});

describe('/api2/extjs envelope', () => {
  it('success: HTTP 200 with data and success 1 (total kept on lists)', async () => {
    const a = await call(sim, 'GET', '/version', { format: 'extjs' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ data: expect.objectContaining({ release: '9.1' }), success: 1 });
    const task = await call(sim, 'POST', '/nodes/pve1/qemu/100/config', { form: { name: 'b' } });
    await sim.state.settle();
    const log = await call(sim, 'GET', `/nodes/pve1/tasks/${task.body.data}/log`, { format: 'extjs' });
    expect(log.body).toMatchObject({ success: 1, total: 2, data: [{ n: 1 }, { n: 2, t: 'TASK OK' }] });
  });

  it('4xx: HTTP 200 with success 0, status, message and errors', async () => {
    const a = await call(sim, 'GET', '/nodes/pve1/qemu/100/config?bogus=1', { format: 'extjs' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      data: null, success: 0, status: 400, message: 'Parameter verification failed.\n',
      errors: { bogus: 'property is not defined in schema and the schema does not allow additional properties' },
    });
    const denied = await call(sim, 'GET', '/nodes/pve1/status', { format: 'extjs', token: sim.auditToken });
    expect(denied.status).toBe(200);
    expect(denied.body).toEqual({ data: null, success: 0, status: 403, message: 'Permission check failed (/nodes/pve1, Sys.Audit)\n' });
  });

  it('5xx: HTTP 200 with success 0 and the status (500 die, 501 unknown path)', async () => {
    const die = await call(sim, 'GET', '/nodes/pve1/qemu/999/config', { format: 'extjs' });
    expect(die.status).toBe(200);
    expect(die.body).toEqual({ data: null, success: 0, status: 500, message: "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n" });
    const missing = await call(sim, 'GET', '/cluster/nothing', { format: 'extjs' });
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({ data: null, success: 0, status: 501, message: "Method 'GET /cluster/nothing' not implemented\n" });
  });

  it('a failed login stays a real 401 (authentication runs before the formatter)', async () => {
    const a = await call(sim, 'GET', '/version', { format: 'extjs', token: null });
    expect(a.status).toBe(401);
    expect(a.reason).toBe('No ticket');
  });

  it('the same normalisation applies: _dc, // and localhost', async () => {
    const a = await call(sim, 'GET', '//nodes/localhost/qemu/100/config/?_dc=5', { format: 'extjs' });
    expect(a.body.success).toBe(1);
    expect(a.body.data.scsi0).toBe('local-lvm:vm-100-disk-0,iothread=1,size=8G');
  });
});
