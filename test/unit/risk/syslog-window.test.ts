// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The syslog window in the node's local time: the pure `syslogWindow`, and the collector against
 * the simulator, whose nodes print syslog times and read `since` in their own zone like journalctl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { assessRisk, syslogWindow, type QmpTimeoutStats } from '../../../src/analysis/risk/index.js';
import { PveClient } from '../../../src/api/client.js';
import { collectRiskEvidence } from '../../../src/audit/evidence.js';
import { quietEvidence, singleIothread, vm } from './build.js';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('syslogWindow', () => {
  it('sends the window start in the node\'s wall-clock time, from the node\'s own clock', () => {
    const time = at('2026-11-22T08:00:00Z');
    // Our clock is 3 h off; the node's clock decides.
    const skewed = new Date('2026-11-22T11:00:00Z');
    expect(syslogWindow(24, { time, localtime: time + 2 * 3600, timezone: 'Etc/GMT-2' }, skewed, 'pve1')).toEqual({ since: '2026-11-21 10:00:00' });
    expect(syslogWindow(24, { time, localtime: time - 5 * 3600, timezone: 'Etc/GMT+5' }, skewed, 'pve1')).toEqual({ since: '2026-11-21 03:00:00' });
  });

  it('uses the offset at the window start when DST changed inside the window', () => {
    // Vienna switched to CEST (+02:00) on 2026-03-29 at 01:00 UTC; 24 h earlier it was +01:00.
    const time = at('2026-03-29T12:00:00Z');
    expect(syslogWindow(24, { time, localtime: time + 7200, timezone: 'Europe/Vienna' }, new Date(time * 1000), 'pve1').since).toBe('2026-03-28 13:00:00');
    // A zone this runtime does not know, or one that disagrees with the node's own offset: the node's offset now.
    expect(syslogWindow(24, { time, localtime: time + 7200, timezone: 'Mars/Olympus' }, new Date(time * 1000), 'pve1').since).toBe('2026-03-28 14:00:00');
    expect(syslogWindow(24, { time, localtime: time - 3600, timezone: 'Europe/Vienna' }, new Date(time * 1000), 'pve1').since).toBe('2026-03-28 11:00:00');
  });

  it('without the node clock, starts 12 h early so that every zone (UTC-12 to UTC+14) is covered', () => {
    const w = syslogWindow(24, { unavailable: 'missing privilege Sys.Audit on /nodes/pve1' }, new Date('2026-11-22T08:00:00Z'), 'pve1');
    expect(w).toEqual({
      since: '2026-11-20 20:00:00',
      approximate: { windowMaxHours: 50, why: 'time zone of node pve1 unknown (missing privilege Sys.Audit on /nodes/pve1)' },
    });
  });
});

describe('QMP_TIMEOUTS with an approximate window', () => {
  it('says the window it really searched and why', () => {
    const qmpTimeouts: QmpTimeoutStats = {
      count: 2, windowHours: 24, commands: { 'query-status': 2 }, samples: [], truncated: false,
      approximate: { windowMaxHours: 50, why: 'time zone of node pve1 unknown (missing privilege Sys.Audit on /nodes/pve1)' },
    };
    const r = assessRisk(vm([singleIothread('scsi0')], { scsihw: { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' } }), quietEvidence({ qmpTimeouts })).reasons[0]!;
    expect(r.code).toBe('QMP_TIMEOUTS');
    expect(r.message).toContain('timed out in the last 24 to 50 h');
    expect(r.evidence).toContainEqual({
      kind: 'missing',
      label: '/nodes/pve1/time',
      value: 'time zone of node pve1 unknown (missing privilege Sys.Audit on /nodes/pve1): the window was widened to be sure to cover the last 24 h',
    });
  });
});

describe('the collector on nodes at +02:00 and -05:00 (simulator)', () => {
  let sim: RunningSimulator;
  const CONF = 'memory: 1024\nscsi0: local-lvm:vm-{id}-disk-0,size=8G\nscsihw: virtio-scsi-single\n';
  beforeAll(async () => {
    const fleet = fleetFromConfigs(
      [
        { vmid: 100, node: 'east', text: CONF.replace('{id}', '100') },
        { vmid: 200, node: 'west', text: CONF.replace('{id}', '200') },
      ],
      { nodes: ['east', 'west'] },
    );
    fleet.nodes[0]!.timezone = '+02:00';
    fleet.nodes[1]!.timezone = '-05:00';
    sim = await startSimulator({ fleet, http: true, authDelayMs: 0, timeScale: 0 });
    const now = sim.state.clock.nowSec();
    for (const [node, vmid] of [['east', 100], ['west', 200]] as const) {
      sim.state.appendSyslog(node, 'pvestatd', `VM ${vmid} qmp command 'query-status' failed - got timeout (25 h ago)`, now - 25 * 3600);
      sim.state.appendSyslog(node, 'pvestatd', `VM ${vmid} qmp command 'query-status' failed - got timeout (23 h ago)`, now - 23 * 3600);
    }
  });
  afterAll(() => sim?.close());

  const timeouts = async (token: string) => {
    const client = new PveClient({ baseUrl: sim.url, auth: { kind: 'token', token }, retries: 0 });
    const ev = await collectRiskEvidence(client, { vms: [{ vmid: 100, node: 'east' }, { vmid: 200, node: 'west' }] });
    return [100, 200].map((vmid) => ev.get(vmid)!.qmpTimeouts as QmpTimeoutStats);
  };

  it('counts the line from 23 h ago and not the one from 25 h ago, on both nodes', async () => {
    for (const stats of await timeouts(sim.token)) {
      expect(stats).toMatchObject({ count: 1, windowHours: 24, truncated: false });
      expect(stats.samples).toEqual([expect.stringContaining('(23 h ago)')]);
      expect(stats.approximate).toBeUndefined();
    }
  });

  it('without Sys.Audit for /time: both lines fall in the widened window, which the count says', async () => {
    const token = sim.state.addToken('log@pve!tz', [
      { path: '/nodes', privs: ['Sys.Syslog'], propagate: true },
      { path: '/vms', privs: ['VM.Audit'], propagate: true },
    ]);
    for (const stats of await timeouts(token)) {
      expect(stats).toMatchObject({ count: 2, windowHours: 24, approximate: { windowMaxHours: 50 } });
      expect(stats.approximate!.why).toMatch(/^time zone of node (east|west) unknown \(missing privilege Sys.Audit on \/nodes\/(east|west)\)$/);
    }
  });
});
