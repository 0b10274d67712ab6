// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The guest agent over real sockets: exec / exec-status with PVE's shapes, the simulated Windows
 * guest answering `Get-Disk` and the Linux guest answering `lsblk` from the running disk set
 * (serials included), agent_available's refusals, the 9.1 / 8.2 privileges, and the migration's
 * own guest check (createApiTarget().guestSeesDisk) reading those answers.
 */
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type ConfigFileSpec, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import type { AnalysisEnv } from '../../../src/analysis/types.js';
import { PveClient } from '../../../src/api/client.js';
import { createApiTarget } from '../../../src/migration/api-target.js';
import { call, getData } from './helpers/http.js';

const WIN = `agent: 1
bios: ovmf
boot: order=sata0;ide2
ide2: local:iso/virtio-win-0.1.262.iso,media=cdrom,size=708140K
machine: pc-q35-8.1
memory: 8192
name: win-app
ostype: win10
sata0: local-lvm:vm-401-disk-0,size=80G
scsi1: local-lvm:vm-401-disk-1,serial=DPSTAGE401,size=1G
scsihw: virtio-scsi-single
`;
const LINUX = `agent: enabled=1,fstrim_cloned_disks=1
boot: order=scsi0
name: web
ostype: l26
scsi0: local-lvm:vm-402-disk-0,size=32G
scsi1: ceph-vm:vm-402-disk-1,serial=DATA%20ONE,size=1536M
virtio0: local-lvm:vm-402-disk-2,serial=VDISK,size=10G
sata0: local-lvm:vm-402-disk-3,size=4G
scsihw: virtio-scsi-pci
`;

const FILES: ConfigFileSpec[] = [
  { vmid: 401, text: WIN, status: 'running', guest: { agentRunning: true } },
  { vmid: 402, text: LINUX, status: 'running', guest: { agentRunning: true } },
  { vmid: 403, text: LINUX.replace(/402/g, '403').replace(/^agent: .*\n/, 'agent: 0\n'), status: 'running', guest: { agentRunning: true } },
  { vmid: 404, text: LINUX.replace(/402/g, '404').replace(/^agent: .*\n/, ''), status: 'running' },
  { vmid: 405, text: LINUX.replace(/402/g, '405'), status: 'running', guest: { agentRunning: false } },
  { vmid: 406, text: LINUX.replace(/402/g, '406'), status: 'stopped', guest: { agentRunning: true } },
];

let sim: RunningSimulator;
let sim82: RunningSimulator;

beforeAll(async () => {
  const opts = { http: true, authDelayMs: 0, timeScale: 0 } as const;
  [sim, sim82] = await Promise.all([
    startSimulator({ ...opts, fleet: fleetFromConfigs(FILES, { nodes: ['pve1'] }) }),
    startSimulator({ ...opts, pveVersion: '8.2', fleet: fleetFromConfigs(FILES, { nodes: ['pve1'] }) }),
  ]);
});
afterAll(async () => {
  await Promise.all([sim?.close(), sim82?.close()]);
});
beforeEach(() => {
  for (const f of FILES) sim.state.mustVm(f.vmid).text = f.text;
  sim.state.setGuest(401, { missingDrivers: [] });
});

/** Runs a command through exec + exec-status, polling until it exited. */
async function run(s: RunningSimulator, vmid: number, command: string[], token?: string): Promise<Record<string, unknown>> {
  const form = new URLSearchParams(command.map((c) => ['command', c]));
  const started = await call(s, 'POST', `/nodes/pve1/qemu/${vmid}/agent/exec`, { formRaw: form.toString(), ...(token ? { token } : {}) });
  if (started.status !== 200) throw new Error(`exec: ${started.status} ${started.reason}`);
  for (let i = 0; i < 50; i++) {
    const st = await getData(s, `/nodes/pve1/qemu/${vmid}/agent/exec-status?pid=${started.body.data.pid}`, token);
    if (st.exited === 1) return st;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the guest process never exited');
}

describe('exec and exec-status', () => {
  it('exec returns {pid}; exec-status says exited 0 while it runs, then exit code and output, then forgets the pid', async () => {
    // Scale 2: the 1.5 s PowerShell run lasts 3 s of real time, so the first exec-status answers while it runs
    // even on a loaded machine (at 0.05 it had finished before the next request was served).
    const slow = await startSimulator({ http: true, authDelayMs: 0, timeScale: 2, fleet: fleetFromConfigs(FILES.slice(0, 1), { nodes: ['pve1'] }) });
    try {
      const a = await call(slow, 'POST', '/nodes/pve1/qemu/401/agent/exec', { json: { command: ['powershell', '-NoProfile', '-Command', '(Get-Disk).Count'] } });
      expect(a.status).toBe(200);
      expect(Object.keys(a.body.data)).toEqual(['pid']);
      expect(Number.isInteger(a.body.data.pid)).toBe(true);
      const path = `/nodes/pve1/qemu/401/agent/exec-status?pid=${a.body.data.pid}`;
      expect(await getData(slow, path)).toEqual({ exited: 0 });
      await slow.state.settle();
      expect(await getData(slow, path)).toEqual({ exited: 1, exitcode: 0, 'out-data': '2\r\n' });
      const again = await call(slow, 'GET', path);
      expect([again.status, again.reason]).toEqual([500, "Agent error: Invalid parameter 'pid'"]);
    } finally {
      await slow.close();
    }
  });

  it('takes the command as repeated form keys (how PveClient sends arrays) and as a JSON array', async () => {
    const form = await run(sim, 402, ['lsblk', '-dno', 'NAME']);
    const json = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/exec', { json: { command: ['lsblk', '-dno', 'NAME'] } });
    await sim.state.settle();
    const st = await getData(sim, `/nodes/pve1/qemu/402/agent/exec-status?pid=${json.body.data.pid}`);
    expect(st['out-data']).toBe(form['out-data']);
    expect(form['out-data']).toBe('sda\nsdb\nsdc\nvda\n');
  });

  it('a program the guest does not have fails the exec call itself with the agent error', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/exec', { json: { command: ['nosuchtool', '--x'] } });
    expect(a.status).toBe(500);
    expect(a.body.message).toBe('Agent error: Failed to execute child process “nosuchtool” (No such file or directory)\n');
    const w = await call(sim, 'POST', '/nodes/pve1/qemu/401/agent/exec', { json: { command: ['lsblk'] } });
    expect(w.body.message).toBe('Agent error: Failed to execute child process “lsblk” (The system cannot find the file specified.)\n');
  });

  it('without command the schema refuses (400)', async () => {
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/exec', { form: {} });
    expect(a.status).toBe(400);
    expect(a.body.errors).toEqual({ command: 'property is missing and it is not optional' });
  });
});

describe('agent_available', () => {
  const cases: Array<[string, number, string]> = [
    ['agent disabled in the config', 403, 'QEMU guest agent is not running'],
    ['no agent key', 404, 'No QEMU guest agent configured'],
    ['agent not running in the guest', 405, 'QEMU guest agent is not running'],
    ['VM stopped', 406, 'VM 406 is not running'],
  ];
  it.each(cases)('%s: 500 %s on exec, exec-status and ping', async (_what, vmid, text) => {
    for (const [method, path] of [['POST', 'agent/exec?command=lsblk'], ['GET', 'agent/exec-status?pid=1'], ['POST', 'agent/ping']] as const) {
      const a = await call(sim, method, `/nodes/pve1/qemu/${vmid}/${path}`);
      expect([a.status, a.reason, a.body.message]).toEqual([500, text, `${text}\n`]);
    }
  });

  it('answers only once the guest has booted (agentStartSec) after a start', async () => {
    // 100 s of boot at a time scale of 0.01: the agent answers 1 s (wall) after the start. The first
    // ping comes right after the start, well inside that second even on a loaded machine (with 200 ms
    // it did not always); the boot's end is polled for, not slept through.
    const bootMs = 100 * 1000 * 0.01;
    const s = await startSimulator({ http: true, authDelayMs: 0, timeScale: 0.01, fleet: fleetFromConfigs([{ ...FILES[5]!, guest: { agentRunning: true, agentStartSec: 100 } }], { nodes: ['pve1'] }) });
    try {
      const t0 = performance.now();
      await call(s, 'POST', '/nodes/pve1/qemu/406/status/start');
      await s.state.settle();
      expect((await call(s, 'POST', '/nodes/pve1/qemu/406/agent/ping')).reason).toBe('QEMU guest agent is not running');
      let up: Awaited<ReturnType<typeof call>>;
      for (const until = performance.now() + 20_000; ; await new Promise((r) => setTimeout(r, 20))) {
        up = await call(s, 'POST', '/nodes/pve1/qemu/406/agent/ping');
        if (up.status === 200 || performance.now() > until) break;
        expect(up.reason).toBe('QEMU guest agent is not running');
      }
      expect(up.body.data).toEqual({ result: {} });
      // Not before the boot was over.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(bootMs);
    } finally {
      await s.close();
    }
  });
});

describe('the Windows guest answers Get-Disk from its running disks', () => {
  const countScript = (serial: string) => `(Get-Disk | Where-Object SerialNumber -eq '${serial}' | Measure-Object).Count`;

  it('counts the disk with a serial (the query of the staged migration), CRLF output', async () => {
    expect((await run(sim, 401, ['powershell', '-NoProfile', '-Command', countScript('DPSTAGE401')]))['out-data']).toBe('1\r\n');
    expect((await run(sim, 401, ['powershell', '-NoProfile', '-Command', countScript('OTHER')]))['out-data']).toBe('0\r\n');
  });

  it('does not see the disk while the VirtIO SCSI driver is missing, nor a disk only in [PENDING]', async () => {
    sim.state.setGuest(401, { missingDrivers: ['vioscsi'] });
    expect((await run(sim, 401, ['powershell', '-Command', countScript('DPSTAGE401')]))['out-data']).toBe('0\r\n');
    sim.state.setGuest(401, { missingDrivers: [] });
    sim.state.editConfig(401, (t) => t.replace(/^scsi1: .*\n/m, '') + '\n[PENDING]\nscsi1: local-lvm:vm-401-disk-1,serial=DPSTAGE401,size=1G\n');
    expect((await run(sim, 401, ['powershell', '-Command', countScript('DPSTAGE401')]))['out-data']).toBe('0\r\n');
  });

  it('block filters, Select-Object + ConvertTo-Json, -SerialNumber, ForEach-Object and the default table', async () => {
    const json = await run(sim, 401, ['powershell', '-Command', "Get-Disk | Where-Object { $_.Size -lt 2GB -and $_.SerialNumber -like 'DP*' } | Select-Object Number,SerialNumber,Size,BusType | ConvertTo-Json -Compress"]);
    expect(JSON.parse(String(json['out-data']))).toEqual({ Number: 0, SerialNumber: 'DPSTAGE401', Size: 1073741824, BusType: 'SAS' });
    // QEMU numbers IDE devices QM00001... in command-line order: the ide2 CD-ROM first, then sata0.
    const byParam = await run(sim, 401, ['powershell', '-Command', 'Get-Disk -SerialNumber QM0000* | ForEach-Object { $_.Size }']);
    expect(byParam['out-data']).toBe('85899345920\r\n');
    const table = String((await run(sim, 401, ['powershell', '-Command', 'Get-Disk']))['out-data']);
    expect(table).toMatch(/^\r\nNumber Friendly Name +Serial Number +HealthStatus OperationalStatus Total Size Partition Style\r\n-+ /);
    expect(table).toMatch(/\r\n0 +QEMU QEMU HARDDISK +DPSTAGE401 +Healthy +Online +1 GB +RAW\r\n1 +QEMU HARDDISK +QM00002 +Healthy +Online +80 GB +GPT\r\n/);
  });

  it('fails like PowerShell for what it does not know (exit code 1, error on stderr)', async () => {
    const st = await run(sim, 401, ['powershell', '-Command', 'Get-Volume']);
    expect(st.exitcode).toBe(1);
    expect(String(st['err-data'])).toMatch(/^Get-Volume : The term 'Get-Volume' is not recognized/);
    expect(st['out-data']).toBeUndefined();
    const none = await run(sim, 401, ['powershell', '-Command', 'Get-Disk -SerialNumber NOPE']);
    expect(none.exitcode).toBe(1);
    expect(String(none['err-data'])).toContain("No MSFT_Disk objects found with property 'SerialNumber' equal to 'NOPE'");
  });

  it('reads -EncodedCommand and `-Command -` with input-data', async () => {
    const enc = Buffer.from('(Get-Disk).Count', 'utf16le').toString('base64');
    expect((await run(sim, 401, ['powershell.exe', '-NonInteractive', '-EncodedCommand', enc]))['out-data']).toBe('2\r\n');
    const a = await call(sim, 'POST', '/nodes/pve1/qemu/401/agent/exec', { json: { command: ['powershell', '-Command', '-'], 'input-data': '(Get-Disk).Count' } });
    await sim.state.settle();
    expect((await getData(sim, `/nodes/pve1/qemu/401/agent/exec-status?pid=${a.body.data.pid}`))['out-data']).toBe('2\r\n');
  });
});

describe('the Linux guest answers lsblk and ls /dev/disk/by-id', () => {
  it('lsblk -J -d -o NAME,SERIAL,SIZE,TYPE: serials as udev shows them (SCSI device id when unset)', async () => {
    const st = await run(sim, 402, ['lsblk', '-J', '-d', '-o', 'NAME,SERIAL,SIZE,TYPE']);
    expect(JSON.parse(String(st['out-data']))).toEqual({
      blockdevices: [
        { name: 'sda', serial: 'QM00001', size: '4G', type: 'disk' },
        { name: 'sdb', serial: 'drive-scsi0', size: '32G', type: 'disk' },
        { name: 'sdc', serial: 'DATA ONE', size: '1.5G', type: 'disk' },
        { name: 'vda', serial: 'VDISK', size: '10G', type: 'disk' },
      ],
    });
  });

  it('the default tree shows the root partition of the boot disk; -b gives bytes; bad columns fail', async () => {
    const tree = String((await run(sim, 402, ['/usr/bin/lsblk']))['out-data']);
    expect(tree.split('\n')[0]).toMatch(/^NAME +MAJ:MIN +RM +SIZE +RO +TYPE +MOUNTPOINTS$/);
    expect(tree).toMatch(/\nsdb +8:16 +0 +32G +0 disk\n└─sdb1 +8:17 +0 +32G +0 part \/\n/);
    const bytes = await run(sim, 402, ['lsblk', '-bdnP', '-o', 'NAME,SIZE', '/dev/vda']);
    expect(bytes['out-data']).toBe('NAME="vda" SIZE="10737418240"\n');
    const bad = await run(sim, 402, ['lsblk', '-o', 'NAME,COLOUR']);
    expect([bad.exitcode, bad['err-data']]).toEqual([1, 'lsblk: unknown column: COLOUR\n']);
  });

  it('sh -c runs one simple command; ls /dev/disk/by-id lists the by-id links', async () => {
    const ids = String((await run(sim, 402, ['sh', '-c', 'ls /dev/disk/by-id']))['out-data']).trim().split('\n');
    expect(ids).toEqual([
      'ata-QEMU_HARDDISK_QM00001',
      'scsi-0QEMU_QEMU_HARDDISK_DATA_ONE',
      'scsi-0QEMU_QEMU_HARDDISK_drive-scsi0',
      'scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-part1',
      'virtio-VDISK',
    ]);
    const piped = await run(sim, 402, ['sh', '-c', 'lsblk | grep sd']);
    expect(piped.exitcode).toBe(2);
  });

  it('a Linux guest without virtio_scsi does not list the SCSI disks', async () => {
    sim.state.setGuest(402, { missingDrivers: ['virtio_scsi'] });
    try {
      expect((await run(sim, 402, ['lsblk', '-dno', 'NAME']))['out-data']).toBe('sda\nvda\n');
    } finally {
      sim.state.setGuest(402, { missingDrivers: [] });
    }
  });
});

describe('read-only agent commands', () => {
  it('ping, info, get-osinfo, get-fsinfo, the generic POST .../agent, and the index', async () => {
    expect(await getData(sim, '/nodes/pve1/qemu/402/agent/info')).toMatchObject({ result: { version: expect.any(String) } });
    const ping = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/ping');
    expect(ping.body).toEqual({ data: { result: {} } });
    expect((await getData(sim, '/nodes/pve1/qemu/401/agent/get-osinfo')).result.id).toBe('mswindows');
    const fs = (await getData(sim, '/nodes/pve1/qemu/402/agent/get-fsinfo')).result;
    expect(fs[0]).toMatchObject({ mountpoint: '/', disk: [{ serial: 'drive-scsi0', 'bus-type': 'scsi', dev: '/dev/sda1' }] });
    const generic = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent', { form: { command: 'get-host-name' } });
    expect(generic.body.data).toEqual({ result: { 'host-name': 'web' } });
    const index: Array<{ name: string }> = await getData(sim, '/nodes/pve1/qemu/402/agent');
    expect(index.map((x) => x.name)).toEqual(expect.arrayContaining(['exec', 'exec-status', 'ping', 'get-fsinfo']));
  });
});

describe('privileges', () => {
  it('9.1: exec and exec-status need VM.GuestAgent.Unrestricted; ping takes VM.GuestAgent.Audit', async () => {
    const audit = sim.state.addToken('ga@pve!audit', [{ path: '/vms', privs: ['VM.Audit', 'VM.GuestAgent.Audit'], propagate: true }]);
    const full = sim.state.addToken('ga@pve!full', [{ path: '/vms/402', privs: ['VM.GuestAgent.Unrestricted'], propagate: false }]);
    const denied = await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/exec?command=lsblk', { token: audit });
    expect([denied.status, denied.reason]).toEqual([403, 'Permission check failed (/vms/402, VM.GuestAgent.Unrestricted)']);
    expect((await call(sim, 'GET', '/nodes/pve1/qemu/402/agent/exec-status?pid=1', { token: audit })).status).toBe(403);
    expect((await call(sim, 'POST', '/nodes/pve1/qemu/402/agent/ping', { token: audit })).status).toBe(200);
    expect((await run(sim, 402, ['lsblk', '-dn', '-o', 'NAME'], full)).exitcode).toBe(0);
    const other = await call(sim, 'POST', '/nodes/pve1/qemu/401/agent/ping', { token: full });
    expect([other.status, other.reason]).toEqual([403, 'Permission check failed (/vms/401, VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted)']);
  });

  it('/access/permissions lists the release\'s own agent privileges (9.1: VM.GuestAgent.*, 8.2: VM.Monitor)', async () => {
    const p91 = (await getData(sim, '/access/permissions?path=/vms/402'))['/vms/402'];
    const p82 = (await getData(sim82, '/access/permissions?path=/vms/402'))['/vms/402'];
    expect([p91['VM.GuestAgent.Unrestricted'], p91['VM.Monitor']]).toEqual([1, undefined]);
    expect([p82['VM.GuestAgent.Unrestricted'], p82['VM.Monitor']]).toEqual([undefined, 1]);
  });

  it('8.2: VM.Monitor for every agent call', async () => {
    const mon = sim82.state.addToken('mon@pve!tok', [{ path: '/vms', privs: ['VM.Monitor'], propagate: true }]);
    const ga = sim82.state.addToken('ga@pve!tok', [{ path: '/vms', privs: ['VM.GuestAgent.Unrestricted'], propagate: true }]);
    expect((await run(sim82, 402, ['lsblk', '-dn', '-o', 'NAME'], mon)).exitcode).toBe(0);
    const a = await call(sim82, 'POST', '/nodes/pve1/qemu/402/agent/ping', { token: ga });
    expect([a.status, a.reason]).toEqual([403, 'Permission check failed (/vms/402, VM.Monitor)']);
  });
});

describe('the migration guest check reads these answers', () => {
  it('createApiTarget().guestSeesDisk: yes with the disk on VirtIO SCSI, no without the driver, unknown when the agent is down', async () => {
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token: sim.token }, httpAgent: new http.Agent({ keepAlive: false }) });
    // guestSeesDisk does not read the analysis env.
    const target = createApiTarget(client, { env: {} as AnalysisEnv, pollMs: 5 });
    expect(await target.guestSeesDisk('pve1', 401, 'DPSTAGE401')).toBe('yes');
    sim.state.setGuest(401, { missingDrivers: ['vioscsi'] });
    expect(await target.guestSeesDisk('pve1', 401, 'DPSTAGE401')).toBe('no');
    expect(await target.guestSeesDisk('pve1', 405, 'DPSTAGE405')).toBe('unknown');
  });
});
