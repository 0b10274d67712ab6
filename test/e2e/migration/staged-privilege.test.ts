// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Windows staged path with a token that may not run the guest-agent check (agent/exec needs
 * VM.GuestAgent.Unrestricted on PVE 9, VM.Monitor on PVE 8): `plan` says so up front, `apply`
 * pauses at the check (PVE's 403) and `--confirm-staged` finishes the path. On the simulator, whose
 * operator token has no guest-agent privilege.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigFileSpec, fleetFromConfigs, startSimulator } from '../../../api-shim/simulator/index.js';
import { PveClient } from '../../../src/api/client.js';
import { collectFleet } from '../../../src/audit/fleet.js';
import { makePlan } from '../../../src/migration/online.js';
import { applyPlan } from '../../../src/migration/apply.js';
import { createApiTarget } from '../../../src/migration/api-target.js';
import type { VmPlan } from '../../../src/migration/types.js';
import { JsonlJournal, readJournal } from '../../../src/node/journal.js';
import { FAST, type SimEnv, conf, mainValues, simWith } from './helpers.js';

const WIN: ConfigFileSpec = {
  vmid: 401,
  status: 'running',
  guest: { agentRunning: true },
  text: conf(
    'agent: 1',
    'boot: order=scsi0;ide2;net0',
    'cores: 4',
    'ide2: local:iso/virtio-win-0.1.262.iso,media=cdrom,size=708140K',
    'machine: pc-q35-8.1',
    'memory: 8192',
    'name: win-401',
    'net0: e1000=BC:24:11:00:04:01,bridge=vmbr0',
    'ostype: win10',
    'scsi0: local-lvm:vm-401-disk-0,cache=writeback,discard=on,size=80G',
  ),
};

const VM_OPS = ['VM.Audit', 'VM.Config.Disk', 'VM.Config.HWType', 'VM.Config.CDROM', 'VM.Config.Options', 'VM.PowerMgmt'];

function clientFor(url: string, token: string): PveClient {
  return new PveClient({ baseUrl: url, auth: { kind: 'token', token }, retries: 0, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }) });
}

const agentGate = (vm: VmPlan) => vm.warnings.find((w) => w.code === 'WINDOWS_STAGED_AGENT_PRIVILEGE');

describe('staged path without the guest-agent privilege (simulator, PVE 9.1)', () => {
  let env: SimEnv;
  beforeAll(async () => {
    env = await simWith([WIN]);
  });
  afterAll(() => env?.close());

  it('the operator token: plan names both what blocks the staged path and that the guest check needs VM.GuestAgent.Unrestricted', async () => {
    const { plan } = await makePlan(clientFor(env.sim.url, env.sim.operatorToken), {}, { aio: 'threads', windowsStaged: true }, { pve: env.sim.url });
    const vm = plan.vms.find((v) => v.vmid === 401)!;
    expect(vm.blocked.map((g) => g.message)).toEqual([expect.stringContaining('lacks Datastore.AllocateSpace on /storage/local-lvm')]);
    expect(agentGate(vm)!.message).toContain('the PVE user or API token in use lacks VM.GuestAgent.Unrestricted on /vms/401');
  });

  it('with Datastore.AllocateSpace added: staged plan with the warning, apply pauses at the check, --confirm-staged finishes', async () => {
    const token = env.sim.state.addToken('stager@pve!win', [
      { path: '/vms', privs: VM_OPS, propagate: true },
      { path: '/storage', privs: ['Datastore.Audit', 'Datastore.AllocateSpace'], propagate: true },
    ]);
    const client = clientFor(env.sim.url, token);
    const { plan } = await makePlan(client, {}, { aio: 'threads', windowsStaged: true }, { pve: env.sim.url });
    const vm = plan.vms.find((v) => v.vmid === 401)!;
    expect([vm.path, vm.blocked]).toEqual(['staged', []]);
    expect(agentGate(vm)!.fix).toContain('--confirm-staged 401');
    expect(plan.options.pveRelease).toBe('9.1');

    const journalPath = `${env.dir}/journal.jsonl`;
    const run = async (confirmStaged?: number[]) => {
      const { env: analysisEnv } = await collectFleet(client, {});
      const prior = existsSync(journalPath) ? readJournal(journalPath).entries : [];
      const journal = JsonlJournal.open(journalPath, `apply-${prior.length}`);
      try {
        const summary = await applyPlan(plan, createApiTarget(client, { env: analysisEnv, pollMs: 10 }), journal, prior, {
          ...FAST,
          reboot: 'now',
          concurrency: 1,
          ...(confirmStaged ? { confirmStaged } : {}),
        });
        return summary.results.find((r) => r.vmid === 401)!;
      } finally {
        await journal.close();
      }
    };
    const first = await run();
    expect(first.result).toBe('awaiting-confirmation');
    expect(first.reason).toContain('agent/exec needs VM.GuestAgent.Unrestricted on /vms/401');
    // Paused after step 1: the boot disk is parked on sata, the temporary disk is on VirtIO SCSI.
    const parked = mainValues(env.text(401));
    expect(parked.scsihw).toBe('virtio-scsi-single');
    expect(parked.sata0).toContain('vm-401-disk-0');

    const done = await run([401]);
    expect(done.result, done.reason).toBe('migrated');
    const now = mainValues(env.text(401));
    expect(now.scsi0).toContain('iothread=1');
    expect(Object.keys(now).filter((k) => /^(sata\d+|scsi[1-9]\d*)$/.test(k))).toEqual([]);
  });
});

describe('staged path on PVE 8.2 (simulator)', () => {
  it('names VM.Monitor, which agent/exec checks there', async () => {
    const sim = await startSimulator({ fleet: fleetFromConfigs([WIN]), http: true, authDelayMs: 0, timeScale: 0.001, pveVersion: '8.2' });
    try {
      const { plan } = await makePlan(clientFor(sim.url, sim.operatorToken), {}, { aio: 'threads', windowsStaged: true }, { pve: sim.url });
      const vm = plan.vms.find((v) => v.vmid === 401)!;
      expect(agentGate(vm)!.message).toContain('the PVE user or API token in use lacks VM.Monitor on /vms/401');
    } finally {
      await sim.state.settle();
      await sim.close();
    }
  });
});
