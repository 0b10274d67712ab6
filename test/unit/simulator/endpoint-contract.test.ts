// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One table, one contract test per GET endpoint the simulator serves: the answer is checked
 * against the endpoint's `returns` schema of the PVE 9.1 API (types, required members, enums;
 * api-shim/simulator/schema/pve-api-returns.json). Rows name the request (query) and, where
 * real PVE departs from its own schema or refuses, the documented difference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFromConfigs, startSimulator, type RunningSimulator } from '../../../api-shim/simulator/index.js';
import returnsJson from '../../../api-shim/simulator/schema/pve-api-returns.json' with { type: 'json' };
import { ENDPOINTS } from '../../../api-shim/simulator/schema/endpoints.js';
import { call } from './helpers/http.js';
import { checkReturns, type CheckRules, type ReturnSchema } from './helpers/returns.js';

const RETURNS = (returnsJson as unknown as { endpoints: Record<string, ReturnSchema> }).endpoints;

interface Row {
  /** Query string added to the request (required parameters). */
  query?: string;
  /** Real PVE refuses: the status and message expected instead of data. */
  refused?: { status: number; message: string };
  rules?: CheckRules;
}

const AGENT = (c: string) => [`/nodes/{node}/qemu/{vmid}/agent/${c}`, {}] as const;

/** Every GET endpoint, keyed by its path template. */
const TABLE: Record<string, Row> = {
  '/version': {},
  '/access/permissions': {},
  '/access/domains': {},
  '/access/users': { query: 'full=1' },
  '/access/users/{userid}/token': {},
  '/access/groups': {},
  '/access/roles': {},
  '/access/acl': {},
  '/access/tfa': {},
  '/cluster/resources': {},
  '/cluster/status': {},
  // Cluster.pm nextid returns the id as a string (`"data":"102"`), the schema says integer.
  '/cluster/nextid': { rules: { types: { '(data)': 'string' } } },
  '/cluster/tasks': {},
  '/cluster/options': {},
  '/cluster/config/nodes': {},
  '/cluster/config/join': {},
  '/cluster/log': {},
  '/cluster/ha/resources': {},
  '/cluster/ha/status/current': {},
  '/cluster/ha/groups': { refused: { status: 500, message: 'cannot index groups: ha groups have been migrated to rules\n' } },
  '/cluster/ha/rules': {},
  '/cluster/backup': {},
  '/cluster/metrics/export': { query: 'history=1' },
  '/cluster/replication': {},
  '/cluster/firewall/rules': {},
  '/cluster/firewall/groups': {},
  '/cluster/firewall/aliases': {},
  '/cluster/firewall/ipset': {},
  '/cluster/firewall/options': {},
  '/cluster/sdn/zones': {},
  '/cluster/sdn/vnets': {},
  '/cluster/sdn/controllers': {},
  '/cluster/sdn/ipams': {},
  '/cluster/sdn/dns': {},
  '/cluster/acme/account': {},
  '/cluster/acme/plugins': {},
  '/cluster/metrics/server': {},
  '/cluster/mapping/pci': {},
  '/cluster/mapping/usb': {},
  '/cluster/mapping/dir': {},
  '/cluster/jobs/realm-sync': {},
  '/storage': {},
  '/pools': {},
  '/pools/{poolid}': {},
  '/nodes': {},
  '/nodes/{node}/status': {},
  '/nodes/{node}/rrddata': { query: 'timeframe=hour&cf=AVERAGE' },
  '/nodes/{node}/apt/versions': {},
  '/nodes/{node}/apt/update': {},
  '/nodes/{node}/capabilities/qemu/machines': {},
  '/nodes/{node}/syslog': {},
  '/nodes/{node}/time': {},
  '/nodes/{node}/vzdump/defaults': {},
  '/nodes/{node}/storage': { query: 'format=1' },
  '/nodes/{node}/storage/{storage}/content': {},
  '/nodes/{node}/storage/{storage}/status': {},
  '/nodes/{node}/subscription': {},
  '/nodes/{node}/network': {},
  // Diskmanage.pm: `osdid-list` is undef (null) without Ceph, `mounted` only set when mounted.
  '/nodes/{node}/disks/list': { rules: { nullable: ['[].osdid-list'], optional: ['[].mounted'] } },
  '/nodes/{node}/dns': {},
  '/nodes/{node}/hosts': {},
  '/nodes/{node}/config': {},
  '/nodes/{node}/certificates/info': {},
  '/nodes/{node}/firewall/rules': {},
  '/nodes/{node}/firewall/options': {},
  '/nodes/{node}/firewall/log': {},
  '/nodes/{node}/replication': {},
  '/nodes/{node}/ceph/status': { refused: { status: 500, message: 'binary not installed: /usr/bin/ceph-mon\n' } },
  '/nodes/{node}/tasks': {},
  '/nodes/{node}/tasks/{upid}/status': {},
  '/nodes/{node}/tasks/{upid}/log': {},
  '/nodes/{node}/qemu': {},
  '/nodes/{node}/qemu/{vmid}/config': {},
  '/nodes/{node}/qemu/{vmid}/pending': {},
  '/nodes/{node}/qemu/{vmid}/rrddata': { query: 'timeframe=hour' },
  '/nodes/{node}/qemu/{vmid}/snapshot': {},
  '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}': {},
  '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config': {},
  // `clipboard` is null when no clipboard is configured (PVE 8.3+ captures), the schema says string.
  '/nodes/{node}/qemu/{vmid}/status/current': { rules: { nullable: ['.clipboard'] } },
  '/nodes/{node}/qemu/{vmid}/feature': { query: 'feature=snapshot' },
  '/nodes/{node}/qemu/{vmid}/firewall/rules': {},
  '/nodes/{node}/qemu/{vmid}/firewall/options': {},
  '/nodes/{node}/qemu/{vmid}/firewall/aliases': {},
  '/nodes/{node}/qemu/{vmid}/firewall/ipset': {},
  '/nodes/{node}/qemu/{vmid}/firewall/log': {},
  '/nodes/{node}/qemu/{vmid}/agent': {},
  '/nodes/{node}/qemu/{vmid}/agent/exec-status': { query: 'pid={pid}' },
  ...Object.fromEntries(['info', 'get-osinfo', 'get-host-name', 'get-time', 'get-timezone', 'get-vcpus', 'get-fsinfo', 'network-get-interfaces'].map(AGENT)),
};

const VM = `agent: 1
ostype: l26
name: contract
scsi0: local-lvm:vm-100-disk-0,iothread=1,size=8G
scsihw: virtio-scsi-single
tags: db;prod
net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1
parent: before
`;

let sim: RunningSimulator;
const values: Record<string, string> = { node: 'pve1', vmid: '100', storage: 'local-lvm', userid: 'root@pam', poolid: 'prod', snapname: 'before' };

beforeAll(async () => {
  sim = await startSimulator({
    fleet: fleetFromConfigs(
      [
        { vmid: 100, text: `${VM}\n[before]\n${VM.replace('parent: before\n', '')}snaptime: 1733500000\n`, node: 'pve1', status: 'running', guest: { agentRunning: true }, pool: 'prod', ha: { state: 'started', group: 'db' } },
        { vmid: 101, text: VM.replace(/vm-100/g, 'vm-101').replace('parent: before\n', ''), node: 'pve2' },
      ],
      { pools: [{ poolid: 'prod', comment: 'production' }] },
    ),
    http: true, authDelayMs: 0, timeScale: 0,
  });
  // A reboot (two tasks) and an agent command, so task lists, logs and exec-status have content.
  const reboot = await call(sim, 'POST', '/nodes/pve1/qemu/100/status/reboot');
  values.upid = reboot.body.data;
  await sim.state.settle();
  const exec = await call(sim, 'POST', '/nodes/pve1/qemu/100/agent/exec', { form: { command: 'lsblk' } });
  if (exec.status !== 200) throw new Error(`agent exec: ${exec.status} ${exec.text}`);
  values.pid = String(exec.body.data.pid);
});
afterAll(async () => {
  await sim?.close();
});

const fill = (s: string) => s.replace(/\{([a-z]+)\}/g, (_, k: string) => encodeURIComponent(values[k] ?? `{${k}}`));

describe('contract: every GET endpoint answers by its PVE 9.1 return schema', () => {
  it('the table covers every GET endpoint served (and nothing else)', () => {
    const served = ENDPOINTS.filter((e) => e.method === 'GET').map((e) => e.path).sort();
    expect(Object.keys(TABLE).sort()).toEqual(served);
    expect(served.filter((p) => !RETURNS[`GET ${p}`])).toEqual([]);
  });

  it.each(Object.entries(TABLE))('GET %s', async (template, row) => {
    const path = fill(template) + (row.query ? `?${fill(row.query)}` : '');
    const a = await call(sim, 'GET', path);
    if (row.refused) {
      expect({ status: a.status, message: a.body?.message }).toEqual(row.refused);
      return;
    }
    expect(a.status, `${path}: ${a.reason}`).toBe(200);
    expect(checkReturns(RETURNS[`GET ${template}`]!, a.body.data, row.rules)).toEqual([]);
  });
});
