// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The client and the online collector against the PVE API simulator (api-shim/simulator) over
 * HTTPS on 127.0.0.1: auth modes, CSRF, pinning, faults, typed errors from the simulator's own
 * answers, and a whole-fleet collection with a full and with a reduced token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../api-shim/simulator/index.js';
import { PveClient } from '../../../src/api/client.js';
import { fetchClusterResources } from '../../../src/api/endpoints/cluster.js';
import { fetchVmPending, updateVmConfig } from '../../../src/api/endpoints/qemu.js';
import {
  PveAuthError,
  PveConnectionError,
  PveDigestMismatchError,
  PveNotFoundError,
  PveParamError,
  PvePermissionError,
} from '../../../src/api/errors.js';
import { collectFleet } from '../../../src/audit/fleet.js';
import { waitForTask } from '../../../src/api/tasks.js';
import { createPveAgent } from '../../../src/node/tls.js';

let sim: RunningSimulator;
/** A second simulator whose every matching request meets the injected faults. */
let faulty: RunningSimulator;

beforeAll(async () => {
  [sim, faulty] = await Promise.all([
    startSimulator({ vms: 40, seed: 7, authDelayMs: 0, timeScale: 0 }),
    startSimulator({
      vms: 6,
      seed: 8,
      authDelayMs: 0,
      timeScale: 0,
      faults: {
        rules: [
          { path: '/nodes/*/qemu/*/pending', method: 'GET', kind: 'reset', times: 2 },
          { path: '/version', method: 'GET', kind: 'error', status: 503, times: 1 },
          { path: '/cluster/resources', method: 'GET', kind: 'timeout', times: 1 },
          { path: '/nodes/*/qemu/*/config', method: 'POST', kind: 'reset', times: 1 },
        ],
      },
    }),
  ]);
});
afterAll(() => Promise.all([sim.close(), faulty.close()]));

function client(
  token: string,
  extra: Partial<ConstructorParameters<typeof PveClient>[0]> = {},
  target: RunningSimulator = sim,
): PveClient {
  return new PveClient({
    baseUrl: target.url,
    auth: { kind: 'token', token },
    httpsAgent: createPveAgent({ fingerprint: target.fingerprint!, maxSockets: 8 }),
    retryDelayMs: 5,
    ...extra,
  });
}

async function vm(c: PveClient): Promise<{ vmid: number; node: string }> {
  const list = await fetchClusterResources(c, { type: 'vm' });
  const q = list.find((r) => r.type === 'qemu' && !r.template)!;
  return { vmid: q.vmid!, node: q.node! };
}

describe('client against the simulator', () => {
  it('pins the simulator certificate; refuses it unpinned', async () => {
    expect((await client(sim.auditToken).get<{ release: string }>('/version')).release).toMatch(/^\d+\.\d+$/);
    const unpinned = new PveClient({
      baseUrl: sim.url,
      auth: { kind: 'token', token: sim.auditToken },
      httpsAgent: createPveAgent({}),
      retries: 0,
    });
    const err = await unpinned.get('/nodes').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveConnectionError);
    expect((err as Error).message).toContain(sim.fingerprint!);
  });

  it('a bad token is PveAuthError', async () => {
    const err = await client('root@pam!sim=wrong-secret').get('/nodes').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveAuthError);
  });

  it('ticket login: a write carries the CSRF token and succeeds; the same write without it is refused', async () => {
    const c = new PveClient({
      baseUrl: sim.url,
      auth: { kind: 'ticket', username: 'root@pam', password: sim.rootPassword },
      httpsAgent: createPveAgent({ fingerprint: sim.fingerprint! }),
    });
    const target = await vm(c);
    const items = await fetchVmPending(c, target.node, target.vmid);
    const digest = String(items.find((i) => i.key === 'digest')!.value);
    const upid = await updateVmConfig(c, target.node, target.vmid, { name: 'ticket-write' }, { digest });
    if (upid) await waitForTask(c, upid, { pollMs: 5 });
    // Same ticket, no CSRF header: PVE answers 401 "Permission denied - invalid csrf token".
    const ticket = c.currentTicket!.ticket;
    const raw = new PveClient({
      baseUrl: sim.url,
      auth: { kind: 'same-origin' },
      httpsAgent: createPveAgent({ fingerprint: sim.fingerprint! }),
    });
    const err = await raw
      .request('POST', `/nodes/${target.node}/qemu/${target.vmid}/config`, { name: 'no-csrf' }, {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveAuthError);
    expect(ticket).toMatch(/^PVE:root@pam:/);
  });

  it('retries GETs through injected resets, a 503 and a timeout; never re-sends a write after a reset', async () => {
    // The limit ends the hung /cluster/resources; every other request must be answered within it,
    // or it is retried once more than counted below: 1 s, as 300 ms could go by on a loaded machine.
    const c = client(faulty.token, { timeoutMs: 1000 }, faulty);
    expect(await c.get('/version')).toBeTruthy();
    expect(c.stats).toEqual({ sent: 2, retries: 1 });
    const target = await vm(c);
    expect(c.stats).toEqual({ sent: 4, retries: 2 });
    const items = await fetchVmPending(c, target.node, target.vmid);
    expect(c.stats).toEqual({ sent: 7, retries: 4 });
    const digest = String(items.find((i) => i.key === 'digest')!.value);
    const err = await updateVmConfig(c, target.node, target.vmid, { name: 'once' }, { digest }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveConnectionError);
    expect((err as PveConnectionError).maybeSent).toBe(true);
    expect(c.stats).toEqual({ sent: 8, retries: 4 });
    // The write was not applied (the simulator dropped it before handling): same digest, still writable.
    const after = await fetchVmPending(c, target.node, target.vmid);
    expect(String(after.find((i) => i.key === 'digest')!.value)).toBe(digest);
  });

  it('typed errors from the simulator: digest mismatch, permission, parameter, not found', async () => {
    const admin = client(sim.token);
    const target = await vm(admin);
    await expect(
      updateVmConfig(admin, target.node, target.vmid, { name: 'stale' }, { digest: '0'.repeat(40) }),
    ).rejects.toBeInstanceOf(PveDigestMismatchError);
    const items = await fetchVmPending(admin, target.node, target.vmid);
    const digest = String(items.find((i) => i.key === 'digest')!.value);
    const perm = await updateVmConfig(client(sim.auditToken), target.node, target.vmid, { scsihw: 'virtio-scsi-single' }, { digest }).catch(
      (e: unknown) => e,
    );
    expect(perm).toBeInstanceOf(PvePermissionError);
    expect((perm as PvePermissionError).aclPath).toBe(`/vms/${target.vmid}`);
    await expect(
      updateVmConfig(admin, target.node, target.vmid, { sata5: 'local-lvm:1,iothread=1' }, { digest }),
    ).rejects.toBeInstanceOf(PveParamError);
    await expect(fetchVmPending(admin, target.node, 99999)).rejects.toBeInstanceOf(PveNotFoundError);
  });
});

describe('collectFleet against the simulator', () => {
  it('reads every QEMU VM with one /pending each, using only VM.Audit + Datastore.Audit', async () => {
    const c = client(sim.auditToken, { concurrency: 8 });
    const vms = (await fetchClusterResources(c, { type: 'vm' })).filter((r) => r.type === 'qemu');
    const sent = c.stats.sent;
    const { inputs, env, errors } = await collectFleet(c);
    expect(inputs.map((i) => i.vmid)).toEqual(vms.map((v) => v.vmid).sort((a, b) => a! - b!));
    expect(errors.filter((e) => e.severity === 'error')).toEqual([]);
    for (const input of inputs) expect(input.digest).toMatch(/^[0-9a-f]{40}$/);
    expect(env.storages.size).toBeGreaterThan(0);
    expect(env.unreadableStorages).toBeUndefined();
    const nodes = new Set(vms.map((v) => v.node));
    // /pending per VM + at most the fixed requests (resources, nodes, storage, permissions) and 2-3 per node;
    // the injected resets add their retries.
    expect(c.stats.sent - sent - c.stats.retries).toBeLessThanOrEqual(vms.length + 4 + 3 * nodes.size);
    const running = inputs.filter((i) => i.runtime?.status === 'running');
    for (const r of running) expect(r.runtime!.runningMachine).toMatch(/^pc-(i440fx|q35)-\d+\.\d+/);
  });

  it('without Datastore.Audit: storage facts are unreadable, named, not guessed', async () => {
    const { inputs, env, errors } = await collectFleet(client(sim.noDatastoreToken));
    expect(env.storages.size).toBe(0);
    const hidden = Object.keys(env.unreadableStorages ?? {});
    expect(hidden.length).toBeGreaterThan(0);
    // One warning per storage, none per disk.
    expect(inputs.flatMap((i) => i.issues).filter((i) => /Datastore\.Audit/.test(i.message))).toEqual([]);
    const warnings = errors.filter((e) => /Datastore\.Audit/.test(e.message));
    expect(warnings.map((w) => w.source).sort()).toEqual(hidden.map((id) => `api:/storage/${id}`).sort());
    expect(warnings[0]!.message).toMatch(/the PVE user or API token in use lacks Datastore\.Audit on \/storage\/.*disks? on it \(VM \d+/);
  });
});

describe('inventory and power endpoints against the simulator', () => {
  it('reads HA resources, backup jobs, syslog and the installed QEMU with the admin token; names Sys.Audit without it', async () => {
    const { fetchBackupJobs, fetchHaResources } = await import('../../../src/api/endpoints/cluster.js');
    const { fetchSyslog, fetchNodes } = await import('../../../src/api/endpoints/nodes.js');
    const { fetchNodeQemuVersion } = await import('../../../src/audit/node-qemu.js');
    const admin = client(sim.token);
    const [node] = await fetchNodes(admin);
    expect(Array.isArray(await fetchHaResources(admin, { type: 'vm' }))).toBe(true);
    for (const job of await fetchBackupJobs(admin)) expect(typeof job.id).toBe('string');
    const lines = await fetchSyslog(admin, node!.node, { limit: 5 });
    for (const l of lines) expect(typeof l.t).toBe('string');
    const exact = await fetchNodeQemuVersion(admin, node!.node);
    expect(exact.source).toBe('apt');
    const derived = await fetchNodeQemuVersion(client(sim.auditToken), node!.node);
    expect(derived).toMatchObject({ source: 'machines', version: [exact.version[0], exact.version[1], 0] });
    expect(derived.fallbackReason).toBe(`/nodes/${node!.node}/apt/versions needs Sys.Audit on /nodes/${node!.node}`);
    await expect(fetchBackupJobs(client(sim.auditToken))).rejects.toMatchObject({ name: 'PvePermissionError' });
  });

  it('stop, start and reboot return UPIDs that waitForTask follows to OK', async () => {
    const { rebootVm, startVm, stopVm, fetchVmStatus } = await import('../../../src/api/endpoints/qemu.js');
    const admin = client(sim.token);
    const list = await fetchClusterResources(admin, { type: 'vm' });
    const running = list.find((r) => r.type === 'qemu' && r.status === 'running' && !r.hastate && !r.template)!;
    const stop = await waitForTask(admin, await stopVm(admin, running.node!, running.vmid!), { pollMs: 5 });
    expect(stop.exitStatus).toMatch(/^(OK|WARNINGS: \d+)$/);
    expect((await fetchVmStatus(admin, running.node!, running.vmid!)).status).toBe('stopped');
    await waitForTask(admin, await startVm(admin, running.node!, running.vmid!), { pollMs: 5 });
    expect((await fetchVmStatus(admin, running.node!, running.vmid!)).status).toBe('running');
    const reboot = await rebootVm(admin, running.node!, running.vmid!, { timeout: 30 });
    expect(reboot).toMatch(/^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmreboot:\d+:/);
    await waitForTask(admin, reboot, { pollMs: 5, timeoutMs: 10_000 });
  });
});
