// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Reads a QEMU command line as qemu-server's cfg2cmd tests expect it (`NAME.conf.cmd`, one option per
 * line, values in single quotes) and says, for every disk device, what QEMU really gets: the device
 * driver, the controller driver it hangs on, whether an IO thread is attached, the aio of its file node
 * and whether the cache is direct. This reads the command line only; it knows no qemu-server rule, so a
 * test comparing the audit with it compares against what qemu-server printed.
 */

import type { VmReport } from '../../../src/analysis/types.js';

export interface CmdDiskFacts {
  key: string;
  qemuDevice: string;
  controller: string | null;
  iothread: boolean;
  aio: string | null;
  cacheDirect: boolean | null;
}

/** `-opt value` pairs of the command line, shell quotes removed. */
function options(cmd: string): { opt: string; value: string }[] {
  const out: { opt: string; value: string }[] = [];
  for (const raw of cmd.split('\n')) {
    const line = raw.trim().replace(/\s*\\$/, '');
    const m = /^-(\S+)(?: (.*))?$/.exec(line);
    if (!m) continue;
    let value = m[2] ?? '';
    if (value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1).replace(/'\\''/g, "'");
    out.push({ opt: m[1]!, value });
  }
  return out;
}

/** QEMU's `driver,key=value,...` syntax; `,,` is an escaped comma inside a value. */
function qemuOpts(value: string): { driver: string; params: Map<string, string> } {
  const parts = value.replace(/,,/g, '\u0000').split(',').map((p) => p.replace(/\u0000/g, ','));
  const params = new Map<string, string>();
  let driver = '';
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (i === 0) driver = part;
      else params.set(part, 'on');
    } else params.set(part.slice(0, eq), part.slice(eq + 1));
  });
  return { driver: driver || params.get('driver') || '', params };
}

interface BlockNode {
  driver?: string;
  aio?: string;
  cache?: { direct?: boolean };
  file?: BlockNode | string;
  'node-name'?: string;
}

/** The aio and cache of a -blockdev tree: aio of the protocol node QEMU opens the image with. */
function blockdevFacts(node: BlockNode): { aio: string | null; cacheDirect: boolean | null } {
  let cacheDirect: boolean | null = null;
  for (let n: BlockNode | undefined = node; n; n = typeof n.file === 'object' ? n.file : undefined) {
    if (cacheDirect === null && n.cache && typeof n.cache.direct === 'boolean') cacheDirect = n.cache.direct;
    if (n.driver === 'file' || n.driver === 'host_device' || n.driver === 'host_cdrom') {
      // QEMU's default for a file-posix node without aio is threads.
      return { aio: n.aio ?? 'threads', cacheDirect };
    }
  }
  return { aio: null, cacheDirect };
}

const DISK_ID = /^(ide|sata|scsi|virtio)\d+$/;

/** Every disk device of the command line, in key order. */
export function reduceCmd(cmd: string): CmdDiskFacts[] {
  const opts = options(cmd);
  const machine = opts.find((o) => o.opt === 'machine')?.value ?? '';
  const q35 = /(^|,)type=[^,]*q35/.test(machine) || /(^|,)type=q35/.test(machine);
  const controllers = new Map<string, { driver: string; iothread: boolean }>();
  const drives = new Map<string, { aio: string | null; cacheDirect: boolean | null }>();
  const devices: { driver: string; params: Map<string, string> }[] = [];

  for (const { opt, value } of opts) {
    if (opt === 'device') {
      const d = qemuOpts(value);
      const id = d.params.get('id') ?? '';
      if (DISK_ID.test(id)) devices.push(d);
      else if (id) controllers.set(id, { driver: d.driver, iothread: d.params.has('iothread') });
    } else if (opt === 'drive') {
      const d = qemuOpts(value);
      const id = d.params.get('id');
      if (!id) continue;
      if (!d.params.has('file')) drives.set(id, { aio: null, cacheDirect: null });
      else {
        const cache = d.params.get('cache');
        // -drive without cache= is QEMU's writeback; without aio= QEMU's threads.
        drives.set(id, { aio: d.params.get('aio') ?? 'threads', cacheDirect: cache === 'none' || cache === 'directsync' });
      }
    } else if (opt === 'blockdev') {
      const node = JSON.parse(value) as BlockNode;
      if (node['node-name']) drives.set(node['node-name'], blockdevFacts(node));
    }
  }

  return devices
    .map(({ driver, params }) => {
      const key = params.get('id')!;
      const bus = (params.get('bus') ?? '').replace(/\.\d+$/, '');
      let controller: string | null;
      let iothread = false;
      if (driver === 'virtio-blk-pci') {
        controller = null;
        iothread = params.has('iothread');
      } else if (driver.startsWith('ide-') && bus === 'ide') {
        controller = q35 ? 'ich9-ahci' : 'ide';
      } else {
        const c = controllers.get(bus);
        if (!c) throw new Error(`${key}: no controller device with id '${bus}' on the command line`);
        controller = c.driver;
        iothread = c.iothread;
      }
      const drive = params.get('drive');
      const facts = drive ? drives.get(drive) : { aio: null, cacheDirect: null };
      if (!facts) throw new Error(`${key}: no drive '${drive}' on the command line`);
      return { key, qemuDevice: driver, controller, iothread, ...facts };
    })
    .sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }));
}

/** The same facts of every disk as the audit's JSON reports them, to compare with either side. */
export function auditDiskFacts(vm: Pick<VmReport, 'disks'>): CmdDiskFacts[] {
  return vm.disks.map((d) => ({
    key: d.key,
    qemuDevice: d.qemuDevice as string,
    controller: d.controller,
    iothread: d.iothread.effective,
    aio: d.aio.effective,
    cacheDirect: d.cacheDirect,
  }));
}
