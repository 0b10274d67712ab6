// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The commands the simulated Linux guest runs through `guest-exec`: `lsblk` (util-linux 2.38:
 * `-d -n -J -P -b -S -l -r -a -o COLS`, device arguments) and `ls /dev/disk/by-id`, also via
 * `sh -c` / `bash -c` with a single simple command. Disk names follow probe order: IDE and SATA
 * then SCSI as sdX, virtio-blk as vdX, CD-ROMs as srN; the boot disk carries one partition
 * mounted on `/`. Serials as udev reports them (see guest-disks.ts).
 */
import type { GuestDisk } from './guest-disks.js';
import type { ProcessResult } from './guest-powershell.js';

interface BlockDev {
  name: string;
  majMin: string;
  rm: boolean;
  sizeBytes: number;
  ro: boolean;
  type: 'disk' | 'part' | 'rom';
  mountpoint: string | null;
  serial: string | null;
  model: string | null;
  vendor: string | null;
  tran: string | null;
  hctl: string | null;
  byId: string[];
  children: BlockDev[];
}

function letters(i: number): string {
  return i < 26 ? String.fromCharCode(97 + i) : letters(Math.floor(i / 26) - 1) + String.fromCharCode(97 + (i % 26));
}

const underscore = (s: string) => s.trim().replace(/\s+/g, '_');

/** The guest's block devices, named as the kernel names them. */
function blockDevices(disks: readonly GuestDisk[]): BlockDev[] {
  let sd = 0;
  let vd = 0;
  let sr = 0;
  const order = [...disks.filter((d) => d.bus === 'ide' || d.bus === 'sata'), ...disks.filter((d) => d.bus === 'scsi'), ...disks.filter((d) => d.bus === 'virtio')];
  const hosts = new Map<string, number>();
  const host = (d: GuestDisk) => {
    const k = `${d.bus}:${d.bus === 'scsi' ? d.controller : 0}`;
    if (!hosts.has(k)) hosts.set(k, hosts.size);
    return hosts.get(k)!;
  };
  return order.map((d) => {
    const ata = d.bus === 'ide' || d.bus === 'sata';
    const virtio = d.bus === 'virtio';
    const serial = d.linuxSerial || null;
    const hctl = virtio ? null : `${host(d)}:0:${ata || d.scsihw?.startsWith('lsi') ? d.unit : 0}:${ata || d.scsihw?.startsWith('lsi') ? 0 : d.unit}`;
    if (d.cdrom) {
      const i = sr++;
      const model = ata ? 'QEMU_DVD-ROM' : 'QEMU_CD-ROM';
      return {
        name: `sr${i}`, majMin: `11:${i}`, rm: true, sizeBytes: 1024 ** 3, ro: false, type: 'rom', mountpoint: null, serial, model: model.replace('_', ' '),
        vendor: 'QEMU', tran: ata ? (d.bus === 'sata' ? 'sata' : 'ata') : null, hctl, byId: ata ? [`ata-${model}_${serial}`] : [`scsi-0QEMU_${model}_${serial}`], children: [],
      };
    }
    const name = virtio ? `vd${letters(vd++)}` : `sd${letters(sd++)}`;
    const major = virtio ? 252 : 8;
    const minor = (virtio ? vd - 1 : sd - 1) * 16;
    const model = virtio ? null : 'QEMU HARDDISK';
    const byId = virtio
      ? serial ? [`virtio-${serial}`] : []
      : ata ? [`ata-${underscore('QEMU HARDDISK')}_${underscore(serial ?? '')}`] : [`scsi-0QEMU_QEMU_HARDDISK_${underscore(serial ?? '')}`];
    const dev: BlockDev = {
      name, majMin: `${major}:${minor}`, rm: false, sizeBytes: d.sizeBytes, ro: false, type: 'disk', mountpoint: null, serial, model,
      vendor: virtio ? '0x1af4' : ata ? 'ATA' : 'QEMU', tran: ata ? (d.bus === 'sata' ? 'sata' : 'ata') : null, hctl, byId, children: [],
    };
    if (d.boot) {
      dev.children.push({
        ...dev, name: `${name}1`, majMin: `${major}:${minor + 1}`, sizeBytes: Math.max(0, d.sizeBytes - 1024 ** 2), type: 'part', mountpoint: '/',
        serial: null, model: null, vendor: null, tran: null, hctl: null, byId: byId.map((x) => `${x}-part1`), children: [],
      });
    }
    return dev;
  });
}

/** lsblk's human sizes: 1024-based, one decimal when not whole (`32G`, `1.5T`, `1024M`). */
function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  const text = Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, '');
  return `${text}${units[i]}`;
}

const COLUMNS = ['NAME', 'KNAME', 'PATH', 'MAJ:MIN', 'RM', 'SIZE', 'RO', 'TYPE', 'MOUNTPOINT', 'MOUNTPOINTS', 'SERIAL', 'MODEL', 'VENDOR', 'TRAN', 'HCTL', 'ROTA', 'WWN'] as const;
type Column = (typeof COLUMNS)[number];

function cell(dev: BlockDev, col: Column, bytes: boolean): string | number | boolean | null | Array<string | null> {
  switch (col) {
    case 'NAME':
    case 'KNAME': return dev.name;
    case 'PATH': return `/dev/${dev.name}`;
    case 'MAJ:MIN': return dev.majMin;
    case 'RM': return dev.rm;
    case 'RO': return dev.ro;
    case 'SIZE': return bytes ? dev.sizeBytes : human(dev.sizeBytes);
    case 'TYPE': return dev.type;
    case 'MOUNTPOINT': return dev.mountpoint;
    case 'MOUNTPOINTS': return [dev.mountpoint];
    case 'SERIAL': return dev.serial;
    case 'MODEL': return dev.model;
    case 'VENDOR': return dev.vendor;
    case 'TRAN': return dev.tran;
    case 'HCTL': return dev.hctl;
    case 'ROTA': return dev.type !== 'rom';
    case 'WWN': return null;
  }
}

function text(v: ReturnType<typeof cell>): string {
  if (Array.isArray(v)) return v.filter((x) => x !== null).join('\n');
  if (typeof v === 'boolean') return v ? '1' : '0';
  return v === null ? '' : String(v);
}

interface LsblkOptions {
  nodeps: boolean;
  headings: boolean;
  mode: 'tree' | 'json' | 'pairs' | 'list' | 'raw';
  bytes: boolean;
  scsiOnly: boolean;
  cols: string[] | null;
}

/** `lsblk` with the options scripts use. */
export function runLsblk(args: readonly string[], disks: readonly GuestDisk[]): ProcessResult {
  const o: LsblkOptions = { nodeps: false, headings: true, mode: 'tree', bytes: false, scsiOnly: false, cols: null };
  const devices: string[] = [];
  const flags = (chars: string, next: () => string | undefined): string | null => {
    for (let j = 0; j < chars.length; j++) {
      const c = chars[j]!;
      if (c === 'd') o.nodeps = true;
      else if (c === 'n') o.headings = false;
      else if (c === 'J') o.mode = 'json';
      else if (c === 'P') o.mode = 'pairs';
      else if (c === 'l') o.mode = 'list';
      else if (c === 'r') o.mode = 'raw';
      else if (c === 'b') o.bytes = true;
      else if (c === 'a') continue;
      else if (c === 'S') {
        o.scsiOnly = true;
        o.nodeps = true;
      } else if (c === 'o') {
        const v = chars.slice(j + 1) || next();
        if (!v) return 'option requires an argument -- \'o\'';
        o.cols = v.split(',');
        return null;
      } else return `invalid option -- '${c}'`;
    }
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const long: Record<string, string> = { '--nodeps': 'd', '--noheadings': 'n', '--json': 'J', '--pairs': 'P', '--list': 'l', '--raw': 'r', '--bytes': 'b', '--all': 'a', '--scsi': 'S' };
    let problem: string | null = null;
    if (long[a]) problem = flags(long[a]!, () => undefined);
    else if (a === '--output' || a.startsWith('--output=')) problem = flags(`o${a.includes('=') ? a.slice(9) : ''}`, () => args[++i]);
    else if (/^-[^-]/.test(a)) problem = flags(a.slice(1), () => args[++i]);
    else if (a.startsWith('--')) problem = `unrecognized option '${a}'`;
    else devices.push(a);
    if (problem) return { exitcode: 1, out: '', err: `lsblk: ${problem}\nTry 'lsblk --help' for more information.\n` };
  }
  const defaultCols = o.scsiOnly ? ['NAME', 'HCTL', 'TYPE', 'VENDOR', 'MODEL', 'SERIAL', 'TRAN'] : ['NAME', 'MAJ:MIN', 'RM', 'SIZE', 'RO', 'TYPE', 'MOUNTPOINTS'];
  const columns = (o.cols ?? defaultCols).map((c) => c.toUpperCase());
  const unknown = columns.find((c) => !(COLUMNS as readonly string[]).includes(c));
  if (unknown) return { exitcode: 1, out: '', err: `lsblk: unknown column: ${unknown}\n` };
  let devs = blockDevices(disks);
  if (o.scsiOnly) devs = devs.filter((d) => d.hctl !== null);
  if (devices.length > 0) {
    const picked: BlockDev[] = [];
    for (const path of devices) {
      const d = devs.find((x) => `/dev/${x.name}` === path || x.name === path);
      if (!d) return { exitcode: 32, out: '', err: `lsblk: ${path}: not a block device\n` };
      picked.push(d);
    }
    devs = picked;
  }
  const rows = (list: BlockDev[], depth: number): Array<{ dev: BlockDev; depth: number; last: boolean }> =>
    list.flatMap((dev, i) => [{ dev, depth, last: i === list.length - 1 }, ...(o.nodeps ? [] : rows(dev.children, depth + 1))]);
  const typed = columns as Column[];
  if (o.mode === 'json') {
    const obj = (dev: BlockDev): Record<string, unknown> => {
      const entry: Record<string, unknown> = Object.fromEntries(typed.map((c) => [c.toLowerCase(), cell(dev, c, o.bytes)]));
      if (!o.nodeps && dev.children.length > 0) entry.children = dev.children.map(obj);
      return entry;
    };
    return { exitcode: 0, out: `${JSON.stringify({ blockdevices: devs.map(obj) }, null, 3)}\n`, err: '' };
  }
  if (o.mode === 'pairs') {
    const lines = rows(devs, 0).map(({ dev }) => typed.map((c) => `${c.replace(':', '_')}="${text(cell(dev, c, o.bytes)).replace(/\n/g, '\\x0a')}"`).join(' '));
    return { exitcode: 0, out: lines.map((l) => `${l}\n`).join(''), err: '' };
  }
  const table = rows(devs, 0).map(({ dev, depth, last }) =>
    typed.map((c) => {
      const v = text(cell(dev, c, o.bytes)).split('\n')[0]!;
      if (c !== 'NAME' || depth === 0 || o.mode !== 'tree') return o.mode === 'raw' ? v.replace(/ /g, '\\x20') : v;
      return `${last ? '└─' : '├─'}${v}`;
    }),
  );
  if (o.headings) table.unshift([...columns]);
  if (o.mode === 'raw') return { exitcode: 0, out: table.map((r) => `${r.join(' ')}\n`).join(''), err: '' };
  const widths = columns.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const right = new Set(['RM', 'SIZE', 'RO', 'ROTA']);
  const lines = table.map((r) => r.map((v, i) => (right.has(columns[i]!) && i > 0 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' ').trimEnd());
  return { exitcode: 0, out: lines.map((l) => `${l}\n`).join(''), err: '' };
}

/** `ls [-1] /dev/disk/by-id` (names sorted like ls does in the C locale). */
export function runLsById(args: readonly string[], disks: readonly GuestDisk[]): ProcessResult {
  const paths = args.filter((a) => !a.startsWith('-'));
  if (paths.length !== 1 || paths[0]!.replace(/\/$/, '') !== '/dev/disk/by-id') {
    return { exitcode: 2, out: '', err: `ls: the simulated guest lists only /dev/disk/by-id\n` };
  }
  const names = blockDevices(disks).flatMap((d) => [...d.byId, ...d.children.flatMap((c) => c.byId)]).sort();
  return { exitcode: 0, out: names.map((n) => `${n}\n`).join(''), err: '' };
}

/** Splits a `sh -c` string into words (single and double quotes); null when it needs a real shell. */
export function shellWords(command: string): string[] | null {
  if (/[|;&<>`$()]/.test(command.replace(/'[^']*'|"[^"]*"/g, ''))) return null;
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
