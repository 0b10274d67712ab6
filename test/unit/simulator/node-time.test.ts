// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Node time zones: journalctl prints syslog times and reads `since`/`until` in the node's local
 * time; `GET /nodes/{n}/time` tells the zone. Fixed offsets and IANA zones (with DST).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import { epochOfLocal, localTime, parseJournalTime } from '../../../api-shim/simulator/node-time.js';
import { call, getData } from './helpers/http.js';

/** 2025-01-15 10:00:00 UTC and 2025-07-15 10:00:00 UTC. */
const WINTER = Date.UTC(2025, 0, 15, 10) / 1000;
const SUMMER = Date.UTC(2025, 6, 15, 10) / 1000;

let sim: RunningSimulator;

beforeAll(async () => {
  const fleet = fleetFromConfigs([], { nodes: ['utc', 'east', 'vienna'] });
  fleet.nodes[1]!.timezone = '+02:00';
  fleet.nodes[2]!.timezone = 'Europe/Vienna';
  sim = await startSimulator({ fleet, http: true, authDelayMs: 0, timeScale: 0 });
  for (const node of ['utc', 'east', 'vienna']) {
    sim.state.appendSyslog(node, 'marker', 'winter', WINTER);
    sim.state.appendSyslog(node, 'marker', 'summer', SUMMER);
  }
});
afterAll(async () => {
  await sim?.close();
});

async function markers(node: string, query = ''): Promise<string[]> {
  const lines: Array<{ t: string }> = await getData(sim, `/nodes/${node}/syslog?limit=5000${query}`);
  return lines.map((l) => l.t).filter((t) => t.includes(' marker['));
}

const q = (since: string, until?: string) => `&since=${encodeURIComponent(since)}${until ? `&until=${encodeURIComponent(until)}` : ''}`;

describe('syslog in local time', () => {
  it('prints the journal time in the node zone (Vienna: +1 in winter, +2 in summer)', async () => {
    expect((await markers('utc')).map((t) => t.slice(0, 15))).toEqual(['Jan 15 10:00:00', 'Jul 15 10:00:00']);
    expect((await markers('east')).map((t) => t.slice(0, 15))).toEqual(['Jan 15 12:00:00', 'Jul 15 12:00:00']);
    expect((await markers('vienna')).map((t) => t.slice(0, 15))).toEqual(['Jan 15 11:00:00', 'Jul 15 12:00:00']);
  });

  it('reads since/until in the node zone: a UTC timestamp sent to a +02:00 node reaches 2 h further back', async () => {
    expect(await markers('east', q('2025-01-15 11:59:59', '2025-01-15 12:00:01'))).toHaveLength(1);
    expect(await markers('east', q('2025-01-15 12:00:01', '2025-01-15 13:00'))).toHaveLength(0);
    // The same UTC wall time on both nodes: the UTC node misses the line, the +02:00 node has it.
    expect(await markers('utc', q('2025-01-15 10:00:01', '2025-01-15 12:00'))).toHaveLength(0);
    expect(await markers('east', q('2025-01-15 10:00:01', '2025-01-15 12:00'))).toHaveLength(1);
    expect(await markers('vienna', q('2025-07-15', '2025-07-15 12:00'))).toHaveLength(1);
  });

  it('an empty answer is one "no content" line, as PVE::Tools::dump_journal sends', async () => {
    const a = await call(sim, 'GET', `/nodes/utc/syslog?since=${encodeURIComponent('2099-01-01')}`);
    expect(a.body).toMatchObject({ data: [{ n: 1, t: 'no content' }], total: 1 });
  });
});

describe('GET /nodes/{node}/time', () => {
  it('gives the zone name, epoch time and the local wall time as epoch', async () => {
    const utc = await getData(sim, '/nodes/utc/time');
    expect(utc.timezone).toBe('Etc/UTC');
    expect(utc.localtime).toBe(utc.time);
    const east = await getData(sim, '/nodes/east/time');
    expect(east).toEqual({ timezone: 'Etc/GMT-2', time: east.time, localtime: east.time + 7200 });
    expect((await getData(sim, '/nodes/vienna/time')).timezone).toBe('Europe/Vienna');
    expect((await call(sim, 'GET', '/nodes/east/time', { token: sim.auditToken })).status).toBe(403);
  });
});

describe('zone arithmetic', () => {
  it('converts local wall time both ways across the Vienna DST change', () => {
    // 2025-03-30 01:59:59 CET is followed by 03:00:00 CEST.
    const before = epochOfLocal('Europe/Vienna', { year: 2025, month: 3, day: 30, hour: 1, minute: 59, second: 59 });
    const after = epochOfLocal('Europe/Vienna', { year: 2025, month: 3, day: 30, hour: 3, minute: 0, second: 0 });
    expect(after - before).toBe(1);
    expect(localTime('Europe/Vienna', after)).toEqual({ year: 2025, month: 3, day: 30, hour: 3, minute: 0, second: 0 });
    expect(parseJournalTime('-05:30', '2025-01-15')).toBe(Date.UTC(2025, 0, 15, 5, 30) / 1000);
  });

  it('refuses an unknown zone at start, naming the option', async () => {
    await expect(startSimulator({ vms: 1, http: true, timezone: 'Mars/Olympus' })).rejects.toThrow(/^timezone: unknown time zone 'Mars\/Olympus'/);
  });
});
