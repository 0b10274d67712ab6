// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A backup job that leaves fleecing unset runs with the node default (/etc/vzdump.conf), read via
 * `/nodes/{node}/vzdump/defaults`. On the simulator: which privilege PVE checks for it (Datastore.*
 * on the storage asked for), and that an unreadable default is unknown, never "off".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { assessRisk, type BackupJobCoverage } from '../../../src/analysis/risk/index.js';
import { PveClient } from '../../../src/api/client.js';
import { collectRiskEvidence } from '../../../src/audit/evidence.js';
import { quietEvidence, singleIothread, vm } from './build.js';

describe('node fleecing default (simulator)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const fleet = fleetFromConfigs([{ vmid: 100, node: 'pve1', text: 'memory: 1024\nscsi0: local-lvm:vm-100-disk-0,iothread=1,size=8G\nscsihw: virtio-scsi-single\n' }], {
      nodes: ['pve1'],
    });
    fleet.nodes[0]!.vzdumpConf = 'fleecing: 1,storage=local-lvm\n';
    fleet.backupJobs = [{ id: 'backup-daily', schedule: '21:00', storage: 'pbs', mode: 'snapshot', enabled: true, all: true }];
    sim = await startSimulator({ fleet, http: true, authDelayMs: 0, timeScale: 0 });
  });
  afterAll(() => sim?.close());

  const jobsWith = async (tokenid: string, storageAcl: { path: string; privs: string[] }[]): Promise<BackupJobCoverage[]> => {
    const token = sim.state.addToken(tokenid, [
      { path: '/', privs: ['Sys.Audit'], propagate: false },
      { path: '/vms', privs: ['VM.Audit'], propagate: true },
      ...storageAcl.map((a) => ({ ...a, propagate: true })),
    ]);
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token }, retries: 0 });
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'pve1' }] });
    return ev.get(100)!.backupJobs as BackupJobCoverage[];
  };

  it('reads the default with Datastore.Audit on the job\'s storage alone (not on the node\'s default storage)', async () => {
    const [job] = await jobsWith('pbsaudit@pve!tk', [{ path: '/storage/pbs', privs: ['Datastore.Audit'] }]);
    expect(job).toMatchObject({ id: 'backup-daily', fleecing: 'unset', nodeDefaultFleecing: true });
    expect(assessRisk(vm([singleIothread('scsi0')]), quietEvidence({ backupJobs: [job!] })).reasons).toEqual([]);
  });

  it('without Datastore.* on that storage: NOT_CHECKED naming the privilege, never BACKUP_NO_FLEECING', async () => {
    const [job] = await jobsWith('nopbs@pve!tk', []);
    expect(job!.nodeDefaultFleecing).toEqual({ unavailable: 'missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs', cause: 'permission' });
    const risk = assessRisk(vm([singleIothread('scsi0')]), quietEvidence({ backupJobs: [job!] }));
    expect(risk.level).toBe('unknown');
    expect(risk.reasons.map((r) => r.code)).toEqual(['NOT_CHECKED']);
    expect(risk.unavailable).toEqual(['/nodes/pve1/vzdump/defaults: missing privilege Datastore.Audit or Datastore.AllocateSpace on /storage/pbs']);
  });
});
