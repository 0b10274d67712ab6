// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Deterministic fleets: a seed gives the same cluster every time. The mix follows what real
 * clusters carry (docs/how-qemu-server-decides.md#controllers): GUI defaults of different PVE generations
 * (lsi by absence, virtio-scsi-pci with an ignored iothread, virtio-scsi-single), VMware imports
 * on pvscsi/megasas, virtio-blk, Windows VMs pinned to a machine version with sata/ide boot
 * disks, cloud-init, templates, snapshots, pending changes, locks, HA, some VMs already migrated,
 * and a few hand-edited files (unsorted keys, `iothread=on`).
 */
import { createRng, type Rng } from './rng.js';
import type { BackupJob, FleetData, FleetNode, FleetVm, HaState, PoolDef } from './types.js';

/** Options of `generateFleet`. */
export interface FleetSpec {
  /** Number of QEMU VMs (default 20). */
  vms?: number;
  /** Number of nodes, or their names (default 3: pve1..pve3). */
  nodes?: number | string[];
  seed?: number;
  clusterName?: string;
  /** First VMID (default 100). */
  firstVmid?: number;
}

interface StorageDef {
  id: string;
  type: string;
  /** Property lines, in storage.cfg order. */
  props: Array<[string, string]>;
  /** Node indexes the storage is on (undefined = all). */
  nodes?: (count: number) => number[];
  /** File-based: volumes are `<vmid>/vm-<vmid>-disk-N.<fmt>`. */
  fileBased: boolean;
  /** Relative weight for VM disks (0 = not for images). */
  weight: number;
}

const STORAGES: StorageDef[] = [
  { id: 'local', type: 'dir', props: [['path', '/var/lib/vz'], ['content', 'iso,vztmpl,backup,snippets']], fileBased: true, weight: 0 },
  { id: 'local-lvm', type: 'lvmthin', props: [['thinpool', 'data'], ['vgname', 'pve'], ['content', 'rootdir,images']], fileBased: false, weight: 30 },
  {
    id: 'vmdata', type: 'dir', props: [['path', '/mnt/vmdata'], ['content', 'images'], ['prune-backups', 'keep-all=1']],
    nodes: () => [0], fileBased: true, weight: 8,
  },
  {
    id: 'local-zfs', type: 'zfspool', props: [['pool', 'rpool/data'], ['content', 'images,rootdir'], ['sparse', '1']],
    nodes: (n) => range(n).filter((i) => i % 2 === 1), fileBased: false, weight: 12,
  },
  { id: 'san-lvm', type: 'lvm', props: [['vgname', 'vg_san'], ['content', 'images'], ['saferemove', '0'], ['shared', '1']], fileBased: false, weight: 10 },
  {
    id: 'ceph-vm', type: 'rbd', props: [['content', 'images'], ['krbd', '0'], ['pool', 'vm']],
    fileBased: false, weight: 14,
  },
  { id: 'ceph-krbd', type: 'rbd', props: [['content', 'images,rootdir'], ['krbd', '1'], ['pool', 'vm-krbd']], fileBased: false, weight: 8 },
  {
    id: 'nas-cifs', type: 'cifs',
    props: [['path', '/mnt/pve/nas-cifs'], ['server', '10.10.0.20'], ['share', 'vmstore'], ['content', 'images,iso'], ['username', 'pve']],
    fileBased: true, weight: 5,
  },
  {
    id: 'nas-nfs', type: 'nfs',
    props: [['export', '/export/vm'], ['path', '/mnt/pve/nas-nfs'], ['server', '10.10.0.21'], ['content', 'images,iso'], ['options', 'vers=4.2']],
    fileBased: true, weight: 6,
  },
  {
    id: 'local-btrfs', type: 'btrfs', props: [['path', '/mnt/btrfs'], ['content', 'images,rootdir']],
    nodes: (n) => [n - 1], fileBased: true, weight: 4,
  },
  {
    id: 'pbs', type: 'pbs',
    props: [['datastore', 'backup'], ['server', '10.10.0.30'], ['content', 'backup'], ['fingerprint', 'a6:1d:3e:6b:bc:33:2c:56:97:fd:0a:ba:bd:20:7e:6c:6e:0e:3d:05:7a:1c:c2:6c:93:b1:35:71:0e:27:31:0a'], ['username', 'backup@pbs']],
    fileBased: false, weight: 0,
  },
];

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** storage.cfg text in PVE's SectionConfig layout (tab-indented properties, blank line between). */
function storageCfgText(nodeNames: string[]): string {
  return STORAGES.map((s) => {
    const lines = [`${s.type}: ${s.id}`, ...s.props.map(([k, v]) => `\t${k} ${v}`)];
    if (s.nodes) lines.push(`\tnodes ${s.nodes(nodeNames.length).map((i) => nodeNames[i]).join(',')}`);
    return lines.join('\n') + '\n';
  }).join('\n');
}

/** Storages that hold VM images on a node. */
function imageStorages(nodeIndex: number, nodeCount: number): StorageDef[] {
  return STORAGES.filter((s) => s.weight > 0 && (!s.nodes || s.nodes(nodeCount).includes(nodeIndex)));
}

const ISOS = [
  ['debian-12.7.0-amd64-netinst.iso', '631M'],
  ['ubuntu-24.04.1-live-server-amd64.iso', '2708862K'],
  ['rhel-9.4-x86_64-dvd.iso', '10957M'],
  ['virtio-win-0.1.262.iso', '708140K'],
  ['Win11_24H2_English_x64.iso', '5683090K'],
  ['SERVER_EVAL_x64FRE_en-us.iso', '4925988K'],
] as const;

const LINUX_NAMES = ['web', 'db', 'pg', 'redis', 'k8s-node', 'k8s-cp', 'mail', 'proxy', 'git', 'ci-runner', 'elastic', 'kafka', 'nfs-gw', 'monitor', 'dns', 'vpn', 'backup-agent', 'minio', 'jenkins', 'app'];
const WIN_NAMES = ['win-ad', 'win-sql', 'win-rds', 'win-file', 'win-exch', 'win11-vdi', 'win-app', 'win-print'];

interface DiskPlan {
  key: string;
  volume: string;
  opts: Array<[string, string]>;
}

/** A config under construction: main keys, optional [PENDING], snapshots. */
interface Draft {
  main: Map<string, string>;
  description?: string;
  pending?: Map<string, string>;
  pendingDelete?: string[];
  snapshots: Array<{ name: string; entries: Map<string, string> }>;
  /** Hand-edited file: keys left in insertion order, `key:value` without space on one line. */
  handEdited: boolean;
}

/** PVE's description encoding: `%`, `:` and non-printable/non-ASCII bytes as %XX. */
function encodeDescriptionLine(line: string): string {
  return Array.from(new TextEncoder().encode(line))
    .map((b) => (b === 0x25 || b === 0x3a || b < 0x20 || b > 0x7e ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b)))
    .join('');
}

function sectionText(entries: Map<string, string>, sorted: boolean): string {
  const keys = [...entries.keys()];
  if (sorted) keys.sort();
  return keys.map((k) => `${k}: ${entries.get(k)}\n`).join('');
}

/** Renders a draft as PVE's writer would (sorted keys, sections in order), or hand-edited. */
function renderConfig(d: Draft): string {
  let out = '';
  if (d.description) out += d.description.split('\n').map((l) => `#${encodeDescriptionLine(l)}\n`).join('');
  if (d.handEdited) {
    const keys = [...d.main.keys()];
    out += keys.map((k, i) => (i === 1 ? `${k}:${d.main.get(k)}\n` : `${k}: ${d.main.get(k)}\n`)).join('');
  } else {
    out += sectionText(d.main, true);
  }
  if (d.pending && (d.pending.size > 0 || d.pendingDelete?.length)) {
    const p = new Map(d.pending);
    if (d.pendingDelete?.length) p.set('delete', [...d.pendingDelete].sort().join(','));
    out += `\n[PENDING]\n${sectionText(p, true)}`;
  }
  for (const s of [...d.snapshots].sort((a, b) => a.name.localeCompare(b.name))) {
    out += `\n[${s.name}]\n${sectionText(s.entries, true)}`;
  }
  return out;
}

function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function mac(rng: Rng): string {
  return `BC:24:11:${[0, 1, 2].map(() => rng.hex(2).toUpperCase()).join(':')}`;
}

function driveString(d: DiskPlan): string {
  return [d.volume, ...d.opts.map(([k, v]) => `${k}=${v}`)].join(',');
}

/** Volume name on a storage: file-based `<vmid>/vm-<vmid>-disk-N.<fmt>`, block `vm-<vmid>-disk-N`. */
function volumeName(s: StorageDef, vmid: number, n: number, template: boolean, fmt: 'raw' | 'qcow2'): string {
  const base = `${template ? 'base' : 'vm'}-${vmid}-disk-${n}`;
  if (!s.fileBased) return `${s.id}:${base}`;
  return `${s.id}:${vmid}/${base}.${s.type === 'btrfs' ? 'raw' : fmt}`;
}

type Profile =
  | 'modern' // virtio-scsi-single + iothread=1 (GUI default since PVE 7.3)
  | 'pci-iothread' // virtio-scsi-pci with iothread=1 that QEMU ignores
  | 'pci' // virtio-scsi-pci, no iothread
  | 'lsi' // no scsihw line: lsi
  | 'virtio-blk'
  | 'vmware' // pvscsi / megasas after an import
  | 'migrated' // virtio-scsi-single + iothread=1 + aio=threads
  | 'cloudinit';

const LINUX_PROFILES: Array<readonly [Profile, number]> = [
  ['modern', 24], ['pci-iothread', 14], ['pci', 12], ['lsi', 9], ['virtio-blk', 10],
  ['vmware', 5], ['migrated', 12], ['cloudinit', 10],
];

interface VmPlan {
  vmid: number;
  nodeIndex: number;
  windows: boolean;
  template: boolean;
}

function pickStorage(rng: Rng, nodeIndex: number, nodeCount: number): StorageDef {
  return rng.weighted(imageStorages(nodeIndex, nodeCount).map((s) => [s, s.weight] as const));
}

function sizeG(rng: Rng): string {
  return `${rng.pick([8, 16, 20, 32, 32, 32, 40, 50, 64, 80, 100, 128, 200, 250, 500])}G`;
}

/** Disk options typical for a profile, plus the occasional aio/cache choices seen in the wild. */
function diskOpts(rng: Rng, profile: Profile, bus: string, size: string, fmt: string | null): Array<[string, string]> {
  const o: Array<[string, string]> = [];
  const iothreadCapable = bus === 'scsi' || bus === 'virtio';
  if (profile === 'migrated' && bus === 'scsi') o.push(['aio', 'threads']);
  else if (rng.chance(0.08)) o.push(['aio', rng.pick(['native', 'io_uring', 'threads'])]);
  if (rng.chance(0.15)) o.push(['cache', rng.pick(['writeback', 'writeback', 'none', 'writethrough', 'directsync'])]);
  if (rng.chance(0.35)) o.push(['discard', 'on']);
  if (fmt) o.push(['format', fmt]);
  if (iothreadCapable && (profile === 'modern' || profile === 'migrated' || profile === 'pci-iothread' || profile === 'cloudinit' || (profile === 'virtio-blk' && rng.chance(0.7)))) {
    o.push(['iothread', '1']);
  }
  if (bus === 'scsi' && profile !== 'vmware' && rng.chance(0.05)) o.push(['mbps_wr', String(rng.pick([100, 200, 400]))]);
  if (rng.chance(0.04)) o.push(['backup', '0']);
  o.push(['size', size]);
  if (bus !== 'virtio' && rng.chance(0.3)) o.push(['ssd', '1']);
  o.sort(([a], [b]) => a.localeCompare(b));
  return o;
}

function linuxVm(rng: Rng, plan: VmPlan, nodeCount: number, ctime: number): { draft: Draft; disks: DiskPlan[] } {
  const profile = rng.weighted(LINUX_PROFILES);
  const m = new Map<string, string>();
  const disks: DiskPlan[] = [];
  const diskCount = rng.weighted([[1, 60], [2, 25], [3, 10], [4, 5]] as const);
  let bus: 'scsi' | 'virtio' = profile === 'virtio-blk' ? 'virtio' : 'scsi';
  let n = 0;
  for (let i = 0; i < diskCount; i++) {
    const s = pickStorage(rng, plan.nodeIndex, nodeCount);
    const fmt = s.fileBased ? (s.type === 'btrfs' ? 'raw' : rng.chance(0.8) ? 'qcow2' : 'raw') : null;
    // A few Linux VMs mix a virtio-blk data disk into a SCSI VM.
    const b = i > 0 && bus === 'scsi' && rng.chance(0.1) ? 'virtio' : bus;
    const key = `${b}${disks.filter((d) => d.key.startsWith(b)).length}`;
    disks.push({
      key,
      volume: volumeName(s, plan.vmid, n++, plan.template, (fmt ?? 'raw') as 'raw' | 'qcow2'),
      opts: diskOpts(rng, profile, b, sizeG(rng), fmt === 'raw' || fmt === null ? null : fmt),
    });
  }
  if (profile === 'vmware' && rng.chance(0.3)) {
    // VMware imports sometimes keep a SATA disk.
    const s = pickStorage(rng, plan.nodeIndex, nodeCount);
    disks.push({ key: 'sata0', volume: volumeName(s, plan.vmid, n++, plan.template, 'raw'), opts: [['size', sizeG(rng)]] });
  }
  switch (profile) {
    case 'modern':
    case 'migrated':
    case 'cloudinit':
      m.set('scsihw', 'virtio-scsi-single');
      break;
    case 'pci':
    case 'pci-iothread':
      m.set('scsihw', 'virtio-scsi-pci');
      break;
    case 'vmware':
      m.set('scsihw', rng.pick(['pvscsi', 'megasas']));
      break;
    case 'virtio-blk':
      if (rng.chance(0.5)) m.set('scsihw', 'virtio-scsi-pci');
      break;
    case 'lsi':
      break;
  }
  bus = disks[0]!.key.startsWith('virtio') ? 'virtio' : 'scsi';
  if (profile === 'cloudinit') {
    const ciStorage = disks[0]!.volume.split(':')[0]!;
    const fileBased = STORAGES.find((s) => s.id === ciStorage)?.fileBased;
    m.set('ide2', `${ciStorage}:${fileBased ? `${plan.vmid}/vm-${plan.vmid}-cloudinit.qcow2` : `vm-${plan.vmid}-cloudinit`},media=cdrom`);
    m.set('ciuser', rng.pick(['debian', 'ubuntu', 'admin']));
    m.set('ipconfig0', rng.chance(0.5) ? 'ip=dhcp' : `ip=10.20.${rng.int(0, 9)}.${rng.int(10, 250)}/24,gw=10.20.0.1`);
    m.set('sshkeys', 'ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIGsimulatedkey%20admin%40example');
    m.set('serial0', 'socket');
    m.set('vga', 'serial0');
  } else if (rng.chance(0.8)) {
    m.set('ide2', rng.chance(0.6) ? 'none,media=cdrom' : (() => { const [iso, sz] = rng.pick(ISOS.slice(0, 3)); return `local:iso/${iso},media=cdrom,size=${sz}`; })());
  }
  for (const d of disks) m.set(d.key, driveString(d));
  m.set('boot', `order=${[disks[0]!.key, m.has('ide2') && profile !== 'cloudinit' ? 'ide2' : null, 'net0'].filter(Boolean).join(';')}`);
  m.set('cores', String(rng.pick([1, 2, 2, 4, 4, 8, 16])));
  m.set('sockets', '1');
  m.set('memory', String(rng.pick([1024, 2048, 4096, 4096, 8192, 16384, 32768])));
  m.set('cpu', rng.pick(['x86-64-v2-AES', 'x86-64-v2-AES', 'host', 'kvm64']));
  m.set('ostype', 'l26');
  m.set('numa', '0');
  m.set('net0', `virtio=${mac(rng)},bridge=vmbr0,firewall=1${rng.chance(0.2) ? `,tag=${rng.int(10, 400)}` : ''}`);
  if (rng.chance(0.6)) m.set('agent', rng.chance(0.3) ? '1,fstrim_cloned_disks=1' : '1');
  if (rng.chance(0.4)) m.set('onboot', '1');
  if (rng.chance(0.15)) m.set('machine', 'q35');
  if (rng.chance(0.1)) m.set('tags', rng.pick(['prod', 'prod;db', 'dev', 'k8s', 'legacy']));
  const name = `${rng.pick(LINUX_NAMES)}-${String(rng.int(1, 40)).padStart(2, '0')}`;
  m.set('name', name);
  const qemuAtCreation = rng.pick(['6.2.0', '7.2.0', '8.0.2', '8.1.5', '9.0.2', '9.2.0', '10.1.2']);
  m.set('meta', `creation-qemu=${qemuAtCreation},ctime=${ctime}`);
  m.set('smbios1', `uuid=${uuid(rng)}`);
  m.set('vmgenid', uuid(rng));
  return { draft: { main: m, snapshots: [], handEdited: false }, disks };
}

function windowsVm(rng: Rng, plan: VmPlan, nodeCount: number, ctime: number): { draft: Draft; disks: DiskPlan[] } {
  const m = new Map<string, string>();
  const disks: DiskPlan[] = [];
  const win11 = rng.chance(0.45);
  const s = pickStorage(rng, plan.nodeIndex, nodeCount);
  // Boot disk bus: old installs without virtio drivers use sata/ide; newer ones scsi.
  const bootBus = rng.weighted([['sata', 35], ['ide', 15], ['scsi', 40], ['virtio', 10]] as const);
  const bootKey = `${bootBus}0`;
  const fmt = s.fileBased ? 'qcow2' : null;
  const opts: Array<[string, string]> = [];
  if (rng.chance(0.3)) opts.push(['cache', 'writeback']);
  if (rng.chance(0.2)) opts.push(['aio', rng.pick(['native', 'threads'])]);
  if (rng.chance(0.4)) opts.push(['discard', 'on']);
  if (fmt) opts.push(['format', fmt]);
  if (bootBus === 'scsi' || bootBus === 'virtio') opts.push(['iothread', '1']);
  opts.push(['size', rng.pick(['60G', '80G', '100G', '128G', '200G'])]);
  if (bootBus !== 'virtio' && rng.chance(0.5)) opts.push(['ssd', '1']);
  opts.sort(([a], [b]) => a.localeCompare(b));
  let n = 0;
  if (win11 || rng.chance(0.4)) {
    m.set('bios', 'ovmf');
    m.set('efidisk0', `${volumeName(s, plan.vmid, n++, plan.template, 'qcow2')},efitype=4m,pre-enrolled-keys=1,size=${s.fileBased ? '528K' : '4M'}`);
  }
  if (win11) m.set('tpmstate0', `${volumeName(s, plan.vmid, n++, plan.template, 'raw')},size=4M,version=v2.0`);
  disks.push({ key: bootKey, volume: volumeName(s, plan.vmid, n++, plan.template, (fmt ?? 'raw') as 'raw' | 'qcow2'), opts });
  if (rng.chance(0.3)) {
    const s2 = pickStorage(rng, plan.nodeIndex, nodeCount);
    const key = bootBus === 'ide' ? 'ide1' : `${bootBus}1`;
    disks.push({ key, volume: volumeName(s2, plan.vmid, n++, plan.template, 'raw'), opts: [['size', sizeG(rng)]] });
  }
  for (const d of disks) m.set(d.key, driveString(d));
  const [winIso, winSize] = win11 ? ISOS[4] : ISOS[5];
  m.set('ide2', rng.chance(0.5) ? `local:iso/${winIso},media=cdrom,size=${winSize}` : 'none,media=cdrom');
  if (bootBus !== 'ide' && rng.chance(0.5)) m.set('ide0', `local:iso/${ISOS[3][0]},media=cdrom,size=${ISOS[3][1]}`);
  if (bootBus === 'scsi' || rng.chance(0.3)) m.set('scsihw', rng.weighted([['virtio-scsi-single', 60], ['virtio-scsi-pci', 30], ['lsi', 10]] as const));
  const q35 = win11 || rng.chance(0.5);
  const pin = rng.pick(['7.2', '8.0', '8.1', '8.1', '9.0', '9.2']);
  // Windows VMs are pinned on create since PVE 7.4 (docs/how-qemu-server-decides.md#reading-the-config); some older ones are not.
  if (rng.chance(0.85)) m.set('machine', `pc-${q35 ? 'q35' : 'i440fx'}-${pin}`);
  else if (q35) m.set('machine', 'q35');
  m.set('ostype', win11 ? 'win11' : rng.pick(['win10', 'win10', 'win8', 'win7']));
  m.set('boot', `order=${bootKey};ide2;net0`);
  m.set('cores', String(rng.pick([2, 4, 4, 8])));
  m.set('sockets', String(rng.pick([1, 1, 2])));
  m.set('memory', String(rng.pick([4096, 8192, 8192, 16384])));
  m.set('cpu', rng.pick(['host', 'x86-64-v2-AES', 'x86-64-v3']));
  m.set('numa', '0');
  m.set('net0', rng.chance(0.7) ? `virtio=${mac(rng)},bridge=vmbr0,firewall=1` : `e1000=${mac(rng)},bridge=vmbr0`);
  if (rng.chance(0.5)) m.set('agent', '1');
  m.set('name', `${rng.pick(WIN_NAMES)}-${String(rng.int(1, 20)).padStart(2, '0')}`);
  m.set('meta', `creation-qemu=${pin === '9.2' ? '9.2.0' : `${pin}.${pin === '8.1' ? 5 : 2}`},ctime=${ctime}`);
  m.set('smbios1', `uuid=${uuid(rng)}`);
  m.set('vmgenid', uuid(rng));
  if (rng.chance(0.5)) m.set('onboot', '1');
  if (rng.chance(0.3)) m.set('tablet', '1');
  return { draft: { main: m, snapshots: [], handEdited: false }, disks };
}

/** Adds [PENDING] changes of the kinds a running VM keeps until its next cold start. */
function addPending(rng: Rng, d: Draft, disks: DiskPlan[]): void {
  const p = new Map<string, string>();
  const kind = rng.weighted([['migration', 45], ['memory', 20], ['cache', 20], ['delete', 15]] as const);
  const scsi = disks.filter((x) => x.key.startsWith('scsi'));
  if (kind === 'migration' && scsi.length > 0) {
    // A migration applied while running: scsihw and disk options wait for the cold start.
    if (d.main.get('scsihw') !== 'virtio-scsi-single') p.set('scsihw', 'virtio-scsi-single');
    for (const x of scsi) {
      const opts = x.opts.filter(([k]) => k !== 'aio' && k !== 'iothread');
      opts.push(['aio', 'threads'], ['iothread', '1']);
      opts.sort(([a], [b]) => a.localeCompare(b));
      p.set(x.key, driveString({ ...x, opts }));
    }
  } else if (kind === 'cache' && disks.length > 0) {
    const x = disks[0]!;
    const opts = x.opts.filter(([k]) => k !== 'cache');
    opts.push(['cache', 'writeback']);
    opts.sort(([a], [b]) => a.localeCompare(b));
    p.set(x.key, driveString({ ...x, opts }));
  } else if (kind === 'delete' && d.main.has('ide2')) {
    d.pendingDelete = ['ide2'];
  } else {
    p.set('memory', String(Number(d.main.get('memory') ?? '2048') * 2));
  }
  d.pending = p;
}

function addSnapshot(rng: Rng, d: Draft, ctime: number): void {
  const name = rng.pick(['before_upgrade', 'pre-patch', 'clean-install', 'snap1']);
  const entries = new Map(d.main);
  entries.delete('parent');
  entries.set('snaptime', String(ctime + rng.int(86400, 86400 * 200)));
  if (rng.chance(0.3)) entries.set('memory', String(Number(entries.get('memory') ?? '2048') / 2));
  d.snapshots.push({ name, entries });
  d.main.set('parent', name);
}

/**
 * Generates a cluster from a seed. Same spec, same fleet: the config texts, states and behaviours
 * are byte-identical across runs and machines.
 */
export function generateFleet(spec: FleetSpec = {}): FleetData {
  const seed = spec.seed ?? 1;
  const rng = createRng(seed).fork('fleet');
  const nodeNames = Array.isArray(spec.nodes) ? spec.nodes : range(spec.nodes ?? 3).map((i) => `pve${i + 1}`);
  if (nodeNames.length === 0) throw new Error('generateFleet: at least one node is needed');
  const nodes: FleetNode[] = nodeNames.map((name, i) => {
    const r = rng.fork(`node:${i}`);
    const cores = r.pick([8, 12, 16, 24, 32]);
    const sockets = r.pick([1, 2]);
    return {
      name,
      cores,
      sockets,
      cpus: cores * sockets * 2,
      memBytes: r.pick([128, 256, 384, 512]) * 1024 ** 3,
      cpuModel: r.pick(['AMD EPYC 7443P 24-Core Processor', 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', 'Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz', 'AMD EPYC 9254 24-Core Processor']),
    };
  });
  const count = spec.vms ?? 20;
  const first = spec.firstVmid ?? 100;
  const vms: FleetVm[] = [];
  const baseCtime = 1_640_995_200; // 2022-01-01, VMs were created over the following years
  for (let i = 0; i < count; i++) {
    const vmid = first + i;
    const r = rng.fork(`vm:${vmid}`);
    const nodeIndex = r.int(0, nodeNames.length - 1);
    const plan: VmPlan = { vmid, nodeIndex, windows: r.chance(0.22), template: r.chance(0.03) };
    const ctime = baseCtime + r.int(0, 3 * 365 * 86400);
    const { draft, disks } = plan.windows ? windowsVm(r, plan, nodeNames.length, ctime) : linuxVm(r, plan, nodeNames.length, ctime);
    if (plan.template) {
      draft.main.set('template', '1');
    }
    const running = !plan.template && r.chance(0.72);
    if (!plan.template && r.chance(0.08)) addSnapshot(r, draft, ctime);
    if (running && r.chance(0.08)) addPending(r, draft, disks);
    if (running && r.chance(0.02)) draft.main.set('lock', 'backup');
    else if (!running && !plan.template && r.chance(0.015)) draft.main.set('lock', r.pick(['snapshot', 'migrate']));
    if (!plan.template && r.chance(0.04)) {
      const s = pickStorage(r, nodeIndex, nodeNames.length);
      draft.main.set('unused0', volumeName(s, vmid, 9, false, 'raw'));
    }
    if (r.chance(0.1)) draft.description = r.pick(['Managed by Ansible', 'Owner: ops-team\nTicket: OPS-1234', 'Legacy app, do not touch!', 'Migrated from VMware: 2023-05']);
    if (!plan.template && r.chance(0.03)) {
      // A hand-edited file: unsorted keys, `iothread=on`, no space after one colon.
      draft.handEdited = true;
      for (const [k, v] of draft.main) if (/^(scsi|virtio)\d+$/.test(k)) draft.main.set(k, v.replace('iothread=1', 'iothread=on'));
    }
    const ha: FleetVm['ha'] = !plan.template && r.chance(0.06) ? { state: (running ? 'started' : r.pick<HaState>(['stopped', 'disabled'])) } : undefined;
    if (ha && r.chance(0.5)) ha.group = 'prefer-pve1';
    const acpiDeaf = r.chance(plan.windows ? 0.12 : 0.04);
    vms.push({
      vmid,
      node: nodeNames[nodeIndex]!,
      config: renderConfig(draft),
      status: running ? 'running' : 'stopped',
      ...(ha ? { ha } : {}),
      guest: {
        ignoresAcpi: acpiDeaf,
        agentRunning: draft.main.has('agent') && r.chance(0.9),
        shutdownSec: r.int(plan.windows ? 8 : 2, plan.windows ? 40 : 12),
      },
      ...(running && r.chance(0.06) ? { ioStress: true } : {}),
      ...(running && r.chance(0.3) ? { runningQemu: r.pick(['8.1.5', '9.0.2', '9.2.0']) } : {}),
      ...(running ? { uptimeSec: r.int(600, 200 * 86400) } : {}),
    });
  }
  const backupJobs: BackupJob[] = [
    { id: 'backup-nightly', schedule: '21:00', storage: 'pbs', mode: 'snapshot', enabled: true, all: true, compress: 'zstd', fleecing: 'enabled=1,storage=local-lvm' },
    { id: 'backup-db', schedule: '*/6:00', storage: 'pbs', mode: 'snapshot', enabled: true, vmid: vms.slice(0, 5).map((v) => v.vmid).join(','), compress: 'zstd' },
    { id: 'backup-weekly-local', schedule: 'sat 02:00', storage: 'local', mode: 'stop', enabled: false, node: nodeNames[0]!, all: true, compress: 'zstd', fleecing: 'enabled=0' },
  ];
  return { clusterName: spec.clusterName ?? 'sim-cluster', nodes, storageCfg: storageCfgText(nodeNames), vms, backupJobs };
}

/** One config file given to `fleetFromConfigs`. */
export interface ConfigFileSpec {
  vmid: number;
  /** Exact file text. */
  text: string;
  node?: string;
  status?: 'running' | 'stopped';
  ha?: FleetVm['ha'];
  guest?: FleetVm['guest'];
  ioStress?: boolean;
  /** QEMU a running VM was started with (default: the installed one). */
  runningQemu?: string;
  /** Resource pool of the VM. */
  pool?: string;
}

/**
 * A fleet made of given config texts (for tests that compare an online audit with an offline
 * audit of the same files). VMs are spread round-robin over the nodes unless a node is given;
 * the storage.cfg defaults to the generated fleet's one (which has local, local-lvm, local-zfs,
 * san-lvm, ceph-vm, ceph-krbd, nas-cifs, nas-nfs, local-btrfs, vmdata, pbs).
 */
export function fleetFromConfigs(
  files: readonly ConfigFileSpec[],
  opts: { storageCfg?: string; nodes?: string[]; clusterName?: string; pools?: PoolDef[] } = {},
): FleetData {
  const nodeNames = opts.nodes ?? ['pve1', 'pve2', 'pve3'];
  const base = generateFleet({ vms: 0, nodes: nodeNames });
  const seen = new Set<number>();
  const vms = files.map((f, i): FleetVm => {
    if (seen.has(f.vmid)) throw new Error(`fleetFromConfigs: VMID ${f.vmid} given twice`);
    seen.add(f.vmid);
    const node = f.node ?? nodeNames[i % nodeNames.length]!;
    if (!nodeNames.includes(node)) throw new Error(`fleetFromConfigs: VM ${f.vmid} is on node '${node}', which is not one of ${nodeNames.join(', ')}`);
    return {
      vmid: f.vmid,
      node,
      config: f.text,
      status: f.status ?? 'stopped',
      ...(f.ha ? { ha: f.ha } : {}),
      guest: { ignoresAcpi: false, agentRunning: false, shutdownSec: 3, ...f.guest },
      ...(f.ioStress ? { ioStress: true } : {}),
      ...(f.runningQemu ? { runningQemu: f.runningQemu } : {}),
      ...(f.pool ? { pool: f.pool } : {}),
    };
  });
  return {
    clusterName: opts.clusterName ?? 'sim-cluster',
    nodes: base.nodes,
    storageCfg: opts.storageCfg ?? base.storageCfg,
    vms,
    backupJobs: [],
    ...(opts.pools ? { pools: opts.pools } : {}),
  };
}
