// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Node views of the web UI (System, Disks, Subscription, Updates, Ceph, Replication) and the
 * VM's storage content, storage status and feature checks. Filled from the simulated node
 * (its name, address, storages and VM volumes); fixed values are marked where they are set.
 */
import { sectionDrives, volumeOwner, digestOf } from '../../../src/pve/index.js';
import { privilegesOn, type Principal } from '../acl.js';
import { requireAnyPriv, requirePrivs } from '../config-update.js';
import { dieError, paramError } from '../errors.js';
import type { SimState } from '../state.js';
import { volumeHasFeature, type VolumeFeature } from '../volume-features.js';
import { nodeIp } from './cluster-config.js';
import { requireNode, type RouteDef } from './route.js';

/** Fixed: the simulated cluster's DNS domain and resolver. */
const DOMAIN = 'sim.lan';
const RESOLVER = '10.10.0.1';

/** The server id of a node's subscription page (hex of its first MAC in PVE; seeded here). */
const serverId = (state: SimState, node: string) => state.rng.fork(`serverid:${node}`).hex(32).toUpperCase();

/** /etc/network/interfaces of a node: one NIC bridged into vmbr0 with the node's address. */
function interfaces(state: SimState, node: string): Array<Record<string, unknown>> {
  const ip = nodeIp(state, node);
  return [
    { iface: 'eno1', type: 'eth', method: 'manual', method6: 'manual', families: ['inet'], active: 1, exists: 1, priority: 3 },
    {
      iface: 'vmbr0', type: 'bridge', method: 'static', method6: 'manual', families: ['inet'], active: 1, autostart: 1, priority: 4,
      address: ip, netmask: '24', cidr: `${ip}/24`, gateway: RESOLVER, bridge_ports: 'eno1', bridge_stp: 'off', bridge_fd: '0',
    },
  ];
}

/** Network.pm index `type`: the pseudo types select groups of interface types. */
function typeMatches(filter: string | undefined, type: string): boolean {
  if (!filter) return true;
  if (filter === 'any_bridge' || filter === 'any_local_bridge') return type === 'bridge' || type === 'OVSBridge';
  if (filter === 'include_sdn') return true;
  return filter === type;
}

/** Fixed physical disks of every node: a boot SSD and a data disk (LVM, or ZFS where local-zfs lives). */
function disks(state: SimState, node: string): Array<Record<string, unknown>> {
  const r = state.rng.fork(`disks:${node}`);
  const zfs = state.storage.storages.get('local-zfs')?.nodes?.includes(node) ?? false;
  const disk = (devpath: string, model: string, size: number, used: string, type: string) => ({
    devpath, model, size, used, type, serial: r.hex(12).toUpperCase(), wwn: `0x5002538${r.hex(9)}`, vendor: 'ATA     ', gpt: 1,
    health: 'PASSED', wearout: type === 'hdd' ? 'N/A' : 100 - r.int(0, 5), rpm: type === 'hdd' ? 7200 : 0, osdid: -1, 'osdid-list': null,
    by_id_link: `/dev/disk/by-id/ata-${model.replace(/ /g, '_')}`,
  });
  return [
    disk('/dev/sda', 'Samsung SSD 870 EVO 500GB', 500107862016, 'partitions', 'ssd'),
    zfs ? { ...disk('/dev/nvme0n1', 'SAMSUNG MZVL21T0HCLR-00B00', 1024209543168, 'ZFS', 'nvme'), vendor: 'unknown' } : disk('/dev/sdb', 'ST4000NM0035-1V4107', 4000787030016, 'LVM', 'hdd'),
  ];
}

/**
 * Node and storage of a `/nodes/{node}/storage/{storage}/...` request: Datastore.Audit or
 * AllocateSpace on the storage, then PVE's answers when it is not there.
 */
function storageRequest(state: SimState, principal: Principal, params: Record<string, string>) {
  const node = requireNode(state, params.node!);
  requireAnyPriv(principal, `/storage/${params.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace']);
  const storeid = params.storage!;
  const s = state.storage.storages.get(storeid);
  if (!s) throw paramError({ storage: 'No such storage.' });
  if (!state.storage.availableOn(storeid, node)) throw dieError(`storage '${storeid}' is not available on node '${node}'`);
  return { node, s };
}

export const nodeSystemRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/nodes/{node}/subscription',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      // No key on the simulated nodes; the server id only for Sys.Audit on the node.
      const out: Record<string, unknown> = { status: 'notfound', message: 'There is no subscription key', url: 'https://www.proxmox.com/en/proxmox-virtual-environment/pricing' };
      if (privilegesOn(principal, `/nodes/${node}`).has('Sys.Audit')) out.serverid = serverId(state, node);
      return out;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/network',
    handler: ({ state, params }) => interfaces(state, requireNode(state, params.node!)).filter((i) => typeMatches(params.type, i.type as string)),
  },
  {
    method: 'GET',
    path: '/nodes/{node}/disks/list',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      if (!privilegesOn(principal, '/').has('Sys.Audit')) requirePrivs(principal, `/nodes/${node}`, ['Sys.Audit']);
      const list = disks(state, node);
      if (params.type === 'unused') return [];
      if (params.skipsmart === '1') return list.map(({ health: _h, wearout: _w, ...d }) => d);
      return list;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/dns',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      requirePrivs(principal, `/nodes/${node}`, ['Sys.Audit']);
      return { search: DOMAIN, dns1: RESOLVER };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/hosts',
    handler: ({ state, principal, params }) => {
      requireNode(state, params.node!);
      requirePrivs(principal, '/', ['Sys.Audit']);
      const data = ['127.0.0.1 localhost.localdomain localhost', ...state.nodes.map((n) => `${nodeIp(state, n.name)} ${n.name}.${DOMAIN} ${n.name}`), ''].join('\n');
      return { data, digest: digestOf(data) };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/config',
    handler: ({ state, principal, params }) => {
      requireNode(state, params.node!);
      requirePrivs(principal, '/', ['Sys.Audit']);
      // /etc/pve/nodes/<node>/config does not exist: no description, wakeonlan or ACME entries.
      return params.property ? {} : { digest: digestOf('') };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/certificates/info',
    handler: ({ state, params }) => {
      const node = requireNode(state, params.node!);
      const fp = (label: string) => state.rng.fork(`cert:${label}`).hex(64).toUpperCase().match(/../g)!.join(':');
      const boot = state.bootTime;
      const ca = { filename: 'pve-root-ca.pem', issuer: `/CN=Proxmox Virtual Environment/OU=${state.clusterName}/O=PVE Cluster Manager CA`, subject: `/CN=Proxmox Virtual Environment/OU=${state.clusterName}/O=PVE Cluster Manager CA` };
      return [
        { ...ca, fingerprint: fp('ca'), notbefore: boot - 400 * 86400, notafter: boot + 3250 * 86400, 'public-key-type': 'rsaEncryption', 'public-key-bits': 4096, san: [] },
        {
          filename: 'pve-ssl.pem', issuer: ca.issuer, subject: `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${node}.${DOMAIN}`,
          fingerprint: fp(node), notbefore: boot - 400 * 86400, notafter: boot + 330 * 86400, 'public-key-type': 'rsaEncryption', 'public-key-bits': 2048,
          san: ['127.0.0.1', '0000:0000:0000:0000:0000:0000:0000:0001', 'localhost', node, `${node}.${DOMAIN}`, nodeIp(state, node)],
        },
      ];
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/ceph/status',
    handler: ({ state, principal, params }) => {
      requireNode(state, params.node!);
      requireAnyPriv(principal, '/', ['Sys.Audit', 'Datastore.Audit']);
      // Ceph::Tools check_ceph_installed: the packages are not installed on the simulated nodes.
      throw dieError('binary not installed: /usr/bin/ceph-mon');
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/apt/update',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      requirePrivs(principal, `/nodes/${node}`, ['Sys.Modify']);
      return [];
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/replication',
    handler: ({ state, params }) => {
      requireNode(state, params.node!);
      return [];
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/storage/{storage}/status',
    handler: ({ state, principal, params }) => {
      const { node, s } = storageRequest(state, principal, params);
      const use = state.storage.usage(s.id, node, (id) => state.vms.get(id)?.node);
      const total = Number(use.total);
      const used = Number(use.used);
      return { type: s.type, content: [...s.content].sort().join(','), shared: s.shared ? 1 : 0, enabled: 1, active: 1, total, used, avail: total - used };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/storage/{storage}/content',
    handler: ({ state, principal, params }) => {
      const { node, s } = storageRequest(state, principal, params);
      const out: Array<Record<string, unknown>> = [];
      for (const [volid, size] of state.storage.volumesOn(s.id)) {
        const name = volid.slice(s.id.length + 1);
        const iso = name.startsWith('iso/');
        const content = iso ? 'iso' : 'images';
        if (params.content && params.content !== content) continue;
        const owner = volumeOwner(volid);
        if (owner !== null) {
          const vmNode = state.vms.get(owner)?.node;
          // A node-local storage holds only the volumes of the VMs on that node.
          if (!s.shared && vmNode !== undefined && vmNode !== node) continue;
          if (params.vmid && Number(params.vmid) !== owner) continue;
          // Storage/Content.pm index: images are listed to users who may audit the guest.
          if (!privilegesOn(principal, `/vms/${owner}`).has('VM.Audit')) continue;
        } else if (params.vmid) continue;
        const format = iso ? 'iso' : (/\.(qcow2|raw|vmdk)$/.exec(name)?.[1] ?? 'raw');
        out.push({ volid, content, format, size: Number(size), ...(owner !== null ? { vmid: owner } : {}), ...(iso ? {} : { used: Number(size) }) });
      }
      return out.sort((a, b) => String(a.volid).localeCompare(String(b.volid)));
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/qemu/{vmid}/feature',
    handler: ({ state, principal, params }) => {
      const node = requireNode(state, params.node!);
      requirePrivs(principal, `/vms/${params.vmid}`, ['VM.Audit']);
      const vm = state.requireVm(node, Number(params.vmid));
      const file = state.config(vm);
      const ref = params.snapname ?? 'main';
      if (params.snapname && !file.snapshots.some((x) => x.name === params.snapname)) throw dieError(`snapshot '${params.snapname}' does not exist`);
      const feature = params.feature as VolumeFeature;
      let has = true;
      const shared = new Set(state.nodeNames());
      for (const d of sectionDrives(file, ref)) {
        if (d.isCdrom || d.key.startsWith('unused')) continue;
        const s = d.storage ? state.storage.storages.get(d.storage) : undefined;
        if (!s || !volumeHasFeature(s, d.file, feature)) has = false;
        // QemuServer shared_nodes: the nodes that reach every disk's storage as a shared one.
        for (const n of [...shared]) if (!s || !s.shared || !state.storage.availableOn(s.id, n)) shared.delete(n);
      }
      return { hasFeature: has ? 1 : 0, nodes: [...shared] };
    },
  },
];

/** `/cluster/sdn/...` lists: SDN is installed but nothing is configured on the simulated cluster. */
export const sdnRoutes: RouteDef[] = ['zones', 'vnets', 'controllers', 'ipams', 'dns'].map((kind) => ({
  method: 'GET' as const,
  path: `/cluster/sdn/${kind}`,
  handler: () => [],
}));
