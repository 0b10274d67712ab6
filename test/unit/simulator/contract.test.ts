// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Contract tests: for every real PVE answer in test/fixtures/pve-api, the simulator's answer to the
 * same request has the same envelope, field names and JSON types. Differences between the PVE
 * version of a capture and the simulated one are listed per case, each with its reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { call, getData } from './helpers/http.js';
import { diffShapes, type ShapeRules } from './helpers/shape.js';

const FIX = new URL('../../fixtures/pve-api/', import.meta.url);
/** Every fixture a test compared against (the last test checks that none was left out). */
const used = new Set<string>();
const fixtureText = (name: string): string => {
  used.add(name);
  return readFileSync(new URL(name, FIX), 'utf8');
};
const fixture = (name: string): any => JSON.parse(fixtureText(name));

/** A real error capture: status line, header names, body. */
function errorFixture(name: string): { status: number; reason: string; headers: string[]; body: string } {
  const text = fixtureText(name);
  const [head, body = ''] = text.split(/\r?\n\r?\n/);
  const [statusLine, ...headerLines] = head!.split(/\r?\n/);
  const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine!)!;
  return { status: Number(m[1]), reason: m[2]!, headers: headerLines.map((l) => l.split(':')[0]!.toLowerCase()), body: body.trim() };
}

/** A config file with the values of a `GET .../config` answer (keys sorted, as PVE writes). */
function configTextFrom(data: Record<string, unknown>): string {
  return Object.keys(data)
    .filter((k) => k !== 'digest')
    .sort()
    .map((k) => `${k}: ${String(data[k])}\n`)
    .join('');
}

const BASE = `boot: order=scsi0;ide2;net0
cores: 2
ide2: none,media=cdrom
memory: 2048
meta: creation-qemu=8.1.5,ctime=1729285344
name: contract-vm
net0: virtio=BC:24:11:30:AD:93,bridge=vmbr0,firewall=1
numa: 0
ostype: l26
scsi0: local-lvm:vm-VMID-disk-0,iothread=1,size=32G
scsihw: virtio-scsi-single
smbios1: uuid=413c6ca3-d043-43fe-9fb4-bc4a6e60c7ef
sockets: 1
vmgenid: fe9dbfef-eb32-4c75-9e36-aaefc3cbda82
`;
const base = (vmid: number, extra = '') => BASE.replace('VMID', String(vmid)) + extra;

const CONFIG_FIXTURES = [
  'nodes-NODE-qemu-VMID-config.json',
  'nodes-NODE-qemu-VMID-config-tags.json',
  'nodes-NODE-qemu-VMID-config-template.json',
  'nodes-NODE-qemu-VMID-config-pve6.2.json',
];
const PVESH = JSON.parse(fixtureText('pvesh-get-qemu-config-json-pretty-pve8.1.txt')) as Record<string, unknown>;

function files() {
  return [
    // 8.0-era running VM with a balloon target, SPICE display and agent (fixture ...-running.json).
    { vmid: 100, text: base(100, 'agent: 1\nballoon: 1024\nvga: qxl\n'), node: 'pve1', status: 'running' as const, runningQemu: '8.0.2' },
    // 8.3-era running VM with a serial console (fixture ...-running-pve8.3.json).
    { vmid: 101, text: base(101, 'agent: 1\nserial0: socket\n'), node: 'pve1', status: 'running' as const, runningQemu: '9.0.2' },
    { vmid: 102, text: base(102), node: 'pve1', status: 'stopped' as const, guest: { shutdownSec: 100_000 } },
    { vmid: 103, text: `${base(103, 'parent: snapshot1\n')}\n[snapshot1]\n${base(103)}snaptime: 1683810191\n`, node: 'pve1' },
    { vmid: 104, text: base(104), node: 'pve1', status: 'running' as const, guest: { shutdownSec: 100_000 } },
    ...CONFIG_FIXTURES.map((name, i) => ({ vmid: 200 + i, text: configTextFrom(fixture(name).data), node: 'pve1' })),
    { vmid: 210, text: configTextFrom(PVESH), node: 'pve1' },
  ];
}

let sim82: RunningSimulator;
let sim91: RunningSimulator;

beforeAll(async () => {
  const common = { authDelayMs: 0, timeScale: 1, http: true } as const;
  [sim82, sim91] = await Promise.all([
    startSimulator({ ...common, pveVersion: '8.2', fleet: fleetFromConfigs(files()) }),
    startSimulator({ ...common, pveVersion: '9.1', fleet: fleetFromConfigs(files()) }),
  ]);
});
afterAll(async () => {
  await Promise.all([sim82?.close(), sim91?.close()]);
});

/** PVE 9 additions over the 8.x captures (apidoc diff 8.4 -> 9.1). */
const PVE9_EXTRA = ['data[].memhost', 'data.memhost'];

function expectShape(real: unknown, answer: unknown, rules: ShapeRules = {}): void {
  expect(diffShapes(real, answer, rules)).toEqual([]);
}

describe('inventory answers have the shape of the real ones', () => {
  it('GET /cluster/resources (nodes, qemu, storage entries; tags only when set)', async () => {
    const a = await call(sim82, 'GET', '/cluster/resources');
    expectShape(fixture('cluster-resources.json'), a.body, { discriminators: { data: 'type' }, optional: ['data[].tags'] });
    const b = await call(sim91, 'GET', '/cluster/resources');
    expectShape(fixture('cluster-resources.json'), b.body, { discriminators: { data: 'type' }, optional: ['data[].tags'], extra: PVE9_EXTRA });
  });

  it('GET /cluster/resources?type=vm', async () => {
    const a = await call(sim82, 'GET', '/cluster/resources?type=vm');
    expectShape(fixture('cluster-resources-type-vm.json'), a.body, { optional: ['data[].tags'] });
    expect(a.body.data.every((e: { type: string }) => e.type === 'qemu')).toBe(true);
  });

  it('GET /cluster/status', async () => {
    expectShape(fixture('cluster-status.json'), (await call(sim91, 'GET', '/cluster/status')).body, { discriminators: { data: 'type' } });
  });

  it('GET /nodes', async () => {
    expectShape(fixture('nodes.json'), (await call(sim91, 'GET', '/nodes')).body);
  });

  it('GET /nodes/{node}/storage', async () => {
    expectShape(fixture('nodes-NODE-storage-pve6.2.json'), (await call(sim91, 'GET', '/nodes/pve1/storage')).body);
  });

  it('GET /nodes/{node}/rrddata (PVE 9 adds pressure and memory fields)', async () => {
    expectShape(fixture('nodes-NODE-rrddata-hour-pve6.2.json'), (await call(sim82, 'GET', '/nodes/pve1/rrddata?timeframe=hour&cf=AVERAGE')).body);
    expectShape(fixture('nodes-NODE-rrddata-hour-pve6.2.json'), (await call(sim91, 'GET', '/nodes/pve1/rrddata?timeframe=hour&cf=AVERAGE')).body, {
      extra: ['memavailable', 'arcsize', 'pressurecpusome', 'pressureiosome', 'pressurememorysome'].map((k) => `data[].${k}`),
    });
  });

  it('GET /version (PVE >= 8: no keyboard, 16-hex repoid, X.Y.Z version)', async () => {
    const a = await call(sim91, 'GET', '/version');
    expectShape(fixture('version-pve6.2.json'), a.body, { optional: ['data.keyboard'] });
    expect(a.body.data.repoid).toMatch(/^[0-9a-f]{16}$/);
    expect(a.body.data.version).toMatch(/^9\.1\.\d+$/);
  });
});

describe('VM answers have the shape (and for configs the values) of the real ones', () => {
  it.each(CONFIG_FIXTURES.map((name, i) => [name, 200 + i] as const))('GET .../config like %s, values included', async (name, vmid) => {
    const real = fixture(name);
    const a = await call(sim91, 'GET', `/nodes/pve1/qemu/${vmid}/config`);
    expectShape(real, a.body);
    const { digest: _d, ...values } = a.body.data;
    const { digest: _r, ...realValues } = real.data;
    expect(values).toEqual(realValues);
    expect(a.body.data.digest).toMatch(/^[0-9a-f]{40}$/);
  });

  it('GET .../config like `pvesh get ... --output-format json-pretty` (8.1, Windows, memory as string)', async () => {
    const data = await getData(sim91, '/nodes/pve1/qemu/210/config');
    expectShape(PVESH, data);
    expect(typeof data.memory).toBe('string');
  });

  it('GET .../config of a PVE 7.4 minimal VM keeps the types (boot is a string)', async () => {
    const real = fixture('nodes-NODE-qemu-VMID-config-pve7.4-minimal.json');
    const a = await call(sim91, 'PUT', '/nodes/pve1/qemu/102/config', { form: { boot: 'order=scsi0' } });
    expect(a.status).toBe(200);
    const b = await call(sim91, 'GET', '/nodes/pve1/qemu/102/config');
    expectShape(real, b.body, { extra: Object.keys(b.body.data).filter((k) => !(k in real.data)).map((k) => `data.${k}`) });
  });

  it('GET .../status/current of a running VM (PVE 8.0 capture, QEMU 8.0)', async () => {
    const a = await call(sim82, 'GET', '/nodes/pve1/qemu/100/status/current');
    expectShape(fixture('nodes-NODE-qemu-VMID-status-current-running.json'), a.body, { maps: ['data.blockstat', 'data.nics'] });
  });

  it('GET .../status/current of a running VM (PVE 8.3 capture: clipboard, serial, zone_append stats)', async () => {
    const a = await call(sim91, 'GET', '/nodes/pve1/qemu/101/status/current');
    expectShape(fixture('nodes-NODE-qemu-VMID-status-current-running-pve8.3.json'), a.body, { maps: ['data.blockstat', 'data.nics'], extra: PVE9_EXTRA });
  });

  it('GET .../status/current of a stopped VM (7.4; 6.2 sent vmid as a string and template "")', async () => {
    const a = await call(sim82, 'GET', '/nodes/pve1/qemu/102/status/current');
    expectShape(fixture('nodes-NODE-qemu-VMID-status-current-stopped-pve7.4.json'), a.body);
    expectShape(fixture('nodes-NODE-qemu-VMID-status-current-stopped-pve6.2.json'), a.body, {
      types: { 'data.vmid': 'number' },
      optional: ['data.template', 'data.pid'],
    });
    const b = await call(sim91, 'GET', '/nodes/pve1/qemu/102/status/current');
    expectShape(fixture('nodes-NODE-qemu-VMID-status-current-stopped-pve7.4.json'), b.body, { extra: [...PVE9_EXTRA, 'data.clipboard'] });
  });

  it('GET .../rrddata of a stopped VM has only the maxima', async () => {
    expectShape(fixture('nodes-NODE-qemu-VMID-rrddata-hour.json'), (await call(sim82, 'GET', '/nodes/pve1/qemu/102/rrddata?timeframe=hour')).body);
  });

  it('GET .../snapshot and PUT .../snapshot/{snap}/config', async () => {
    expectShape(fixture('nodes-NODE-qemu-VMID-snapshot-pve7.4.json'), (await call(sim91, 'GET', '/nodes/pve1/qemu/103/snapshot')).body);
    const put = await call(sim91, 'PUT', '/nodes/pve1/qemu/103/snapshot/snapshot1/config', { form: { description: 'Snapshot 1' } });
    expect(put.body).toEqual(fixture('nodes-NODE-qemu-VMID-snapshot-SNAP-config-PUT-pve7.4.json'));
  });
});

const UPID = /^UPID:[a-z0-9-]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[a-z]+:\d*:[^:]+:$/;

describe('tasks look like the real ones', () => {
  it('POST .../config returns a qmconfig UPID; status and log while running and when done', async () => {
    const a = await call(sim82, 'POST', '/nodes/pve1/qemu/102/config', { form: { virtio1: 'local-lvm:1,backup=0,replicate=0' } });
    expectShape(fixture('nodes-NODE-qemu-VMID-config-POST-async-upid.json'), a.body);
    expect(a.body.data).toMatch(UPID);
    expect(a.body.data).toContain(':qmconfig:102:root@pam!sim:');
    await sim82.state.settle();
    const status = await call(sim82, 'GET', `/nodes/pve1/tasks/${a.body.data}/status`);
    expectShape(fixture('tasks-UPID-status-stopped-ok.json'), status.body);
    expect(status.body.data.exitstatus).toBe('OK');
    const log = await call(sim82, 'GET', `/nodes/pve1/tasks/${a.body.data}/log`);
    expectShape(fixture('tasks-UPID-log-qmconfig-done.json'), log.body);
    expect(log.body.data.map((l: { t: string }) => l.t)).toEqual(['update VM 102: -virtio1 local-lvm:1,backup=0,replicate=0', 'TASK OK']);

    // A shutdown that takes long (the guest needs 100000 s): status and log while it runs.
    const shut = await call(sim82, 'POST', '/nodes/pve1/qemu/104/status/shutdown', { form: { timeout: 200000 } });
    const running = await call(sim82, 'GET', `/nodes/pve1/tasks/${shut.body.data}/status`);
    expectShape(fixture('tasks-UPID-status-running.json'), running.body);
    expect(running.body.data.status).toBe('running');
    const runLog = await call(sim82, 'GET', `/nodes/pve1/tasks/${shut.body.data}/log`);
    // No line yet: Formatter::Standard adds `total` only when it is true, so 0 is left out.
    expect(runLog.body).toEqual({ data: [] });
    // The capture of a running task that has logged a line carries `total`, like any non-empty log.
    expectShape(fixture('tasks-UPID-log-qmconfig-running.json'), log.body);
  });

  it('GET /nodes/{node}/tasks lists finished tasks with exit status and endtime, plus total', async () => {
    await call(sim91, 'POST', '/nodes/pve1/qemu/102/config', { form: { description: 'x' } });
    await sim91.state.settle();
    expectShape(fixture('nodes-NODE-tasks-pve7.4.json'), (await call(sim91, 'GET', '/nodes/pve1/tasks')).body);
  });

  it('POST /nodes/{node}/qemu creates a VM in a qmcreate task', async () => {
    const a = await call(sim91, 'POST', '/nodes/pve1/qemu', { form: { vmid: 300, name: 'created', memory: 1024, scsi0: 'local-lvm:4' } });
    expectShape(fixture('nodes-NODE-qemu-POST-create-upid-pve7.4.json'), a.body);
    expect(a.body.data).toContain(':qmcreate:300:');
    await sim91.state.settle();
    const cfg = await getData(sim91, '/nodes/pve1/qemu/300/config');
    expect(cfg.scsi0).toBe('local-lvm:vm-300-disk-0,size=4G');
    expect(cfg.lock).toBeUndefined();
  });
});

describe('access', () => {
  it('POST /access/ticket answers like PVE 8 (cap per area, clustername with Sys.Audit)', async () => {
    const a = await call(sim91, 'POST', '/access/ticket', { token: null, form: { username: 'root@pam', password: sim91.rootPassword } });
    expectShape(fixture('access-ticket.json'), a.body, { maps: ['data.cap', 'data.cap.*'] });
    expectShape(fixture('access-ticket-pve6.2.json'), a.body, { maps: ['data.cap', 'data.cap.*'], extra: ['data.clustername'] });
    expect(a.body.data.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::\S+$/);
  });

  // pve-manager's web UI reads `caps.mapping[...]`, `caps.sdn[...]` etc. without a guard
  // (dc/Config.js): a ticket without one of the areas breaks the Datacenter view on login.
  it('a ticket cap has every area PVE computes (compute_api_permission), mapping included, each with its own privileges', async () => {
    const areas = ['access', 'dc', 'mapping', 'nodes', 'sdn', 'storage', 'vms'];
    const root = (await call(sim91, 'POST', '/access/ticket', { token: null, form: { username: 'root@pam', password: sim91.rootPassword } })).body.data.cap;
    expect(Object.keys(root).sort()).toEqual(areas);
    expect(root.mapping).toMatchObject({ 'Mapping.Audit': 1, 'Mapping.Modify': 1, 'Mapping.Use': 1, 'Permissions.Modify': 1 });
    expect(Object.keys(root.dc).sort()).toEqual(['SDN.Allocate', 'SDN.Audit', 'SDN.Use', 'Sys.Audit', 'Sys.Modify']);
    const auditor = (await call(sim91, 'POST', '/access/ticket', { token: null, form: { username: 'audit@pve', password: 'audit' } })).body.data.cap;
    expect(Object.keys(auditor).sort()).toEqual(areas);
    expect(auditor.mapping).toEqual({});
    expect(Object.keys(auditor.vms)).toContain('VM.Audit');
    for (const priv of Object.keys(auditor.vms)) expect(priv).toMatch(/^VM\./);
  });
});

describe('errors look like the real ones (PVE 8.2: no body message)', () => {
  async function expectError(name: string, answer: Awaited<ReturnType<typeof call>>, opts: { reason?: boolean } = {}) {
    const real = errorFixture(name);
    expect(answer.status).toBe(real.status);
    if (opts.reason !== false) expect(answer.reason).toBe(real.reason);
    for (const h of real.headers) if (h !== 'content-length' || real.body) expect(Object.keys(answer.headers)).toContain(h);
    if (real.body) expect(answer.body).toEqual(JSON.parse(real.body));
    else {
      expect(answer.text).toBe('');
      expect(answer.headers['content-type']).toBeUndefined();
    }
  }

  it('400 invalid VM id (GET /cluster/nextid?vmid=99)', async () => {
    await expectError('error-400-param-invalid-vmid.txt', await call(sim82, 'GET', '/cluster/nextid?vmid=99'));
  });

  it('400 VM exists (GET /cluster/nextid?vmid=100)', async () => {
    await expectError('error-400-param-vm-exists.txt', await call(sim82, 'GET', '/cluster/nextid?vmid=100'));
  });

  it('401 bad password on POST /access/ticket', async () => {
    await expectError('error-401-access-ticket-auth-failure.txt', await call(sim82, 'POST', '/access/ticket', { token: null, form: { username: 'root@pam', password: 'wrong_password' } }));
  });

  it('401 bad API token: empty body, no Content-Type (reason text differs by version)', async () => {
    await expectError('error-401-invalid-token.txt', await call(sim82, 'GET', '/version', { token: 'root@pam!sim=00000000-0000-0000-0000-000000000000' }), { reason: false });
  });

  it('500 config file missing (status of an unknown VM)', async () => {
    const real = errorFixture('error-500-config-file-missing.txt');
    const a = await call(sim82, 'GET', '/nodes/pve1/qemu/101999/status/current');
    expect(a.status).toBe(500);
    expect(a.reason).toBe(real.reason.replace("nodes/pve/qemu-server/101.conf", 'nodes/pve1/qemu-server/101999.conf'));
    expect(a.body).toEqual(JSON.parse(real.body));
  });

  it('500 create of an existing VM', async () => {
    const real = errorFixture('error-500-create-vm-exists.txt');
    const a = await call(sim82, 'POST', '/nodes/pve1/qemu', { form: { vmid: 100 } });
    expect(a.status).toBe(500);
    expect(a.reason).toBe(real.reason.replace("node 'pve'", "node 'pve1'"));
    expect(a.body).toEqual(JSON.parse(real.body));
  });
});

describe('coverage', () => {
  it('every real answer in test/fixtures/pve-api was compared', () => {
    const all = readdirSync(FIX).filter((f) => /\.(json|txt)$/.test(f));
    expect(all.filter((f) => !used.has(f))).toEqual([]);
  });
});
