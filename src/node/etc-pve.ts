// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Reads a copy of /etc/pve (or the real one, on a node): `storage.cfg`,
 * `nodes/<node>/qemu-server/<vmid>.conf` and `qemu-server/<vmid>.conf`.
 *
 * NOTE: on a node `qemu-server` is a pmxcfs symlink to `nodes/<localnode>/qemu-server`, so a VM can
 * show up twice; the `nodes/` copy wins (it names the node). Files are read one after another,
 * synchronously: 5,000 VMs take a few tens of milliseconds.
 */
import { hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile, readdir, readlink, lstat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseStorageCfg, parseVmConfig } from '../pve/index.js';
import type { ConfFile, ConfigRead, ConfigReader, ReadFilter } from '../audit/reader.js';
import type { ConfigIssue, StorageMap, VmConfigFile } from '../pve/types.js';
import { readRiskFiles } from './risk-files.js';

export type { ConfFile, ConfigRead, ReadFilter };

const CONF_RE = /^(\d+)\.conf$/;

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file or directory';
  if (e?.code === 'EACCES') return 'permission denied (run as root or copy the file)';
  if (e?.code === 'EISDIR') return 'is a directory, not a file';
  return e?.message ?? String(err);
}

function readError(path: string, err: unknown, what = 'cannot read'): ConfigIssue {
  return { source: path, severity: 'error', message: `${what}: ${errorText(err)}` };
}

/** VMID of a `<vmid>.conf` file name, or null. */
export function vmidFromFileName(path: string): number | null {
  const m = CONF_RE.exec(basename(path));
  return m ? Number(m[1]) : null;
}

/**
 * Why `bytes` cannot be a VM config, or null. qemu-server configs are text: a NUL byte (or a file
 * that is mostly control bytes) means an image, a dump or an archive saved under a `.conf` name.
 */
export function binaryReason(bytes: Uint8Array): string | null {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `binary data (${bytes.length} bytes, a NUL byte at offset ${nul})`;
  let control = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) control++;
  }
  return bytes.length > 0 && control / bytes.length > 0.1 ? `binary data (${bytes.length} bytes, ${control} control bytes)` : null;
}

/**
 * PVE's config digest (src/pve digestOf) with node's native SHA-1, one-shot: no Hash object per
 * file (5,000 configs; createHash + update + digest cost about three times as much).
 */
export function sha1Hex(bytes: Uint8Array): string {
  return hash('sha1', bytes, 'hex');
}

/** pve-container's root file system key, which no VM config has. */
const ROOTFS = Buffer.from('rootfs:');

/** One buffer for every config read (a config is a few KiB; it grows for a larger one). */
let readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * The bytes of the file at `path`, in the shared read buffer: valid until the next read. Unlike
 * readFileSync, no fstat and no new buffer per file (5,000 configs).
 */
function readWhole(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let size = 0;
    for (;;) {
      if (size === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger, 0, 0, size);
        readBuffer = bigger;
      }
      const got = readSync(fd, readBuffer, size, readBuffer.length - size, null);
      if (got === 0) return readBuffer.subarray(0, size);
      size += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses one VM config file; a read failure becomes an error issue. */
export async function readConfFile(path: string, node: string | null, vmid?: number | null): Promise<ConfFile | ConfigIssue> {
  try {
    // Synchronous: a config is a few hundred bytes, and the parse right after is synchronous
    // anyway. 5,000 promise reads (open, fstat, read, close through the thread pool) took longer
    // than parsing and analysing them.
    const bytes = readWhole(path);
    const binary = binaryReason(bytes);
    if (binary !== null) {
      return {
        source: path,
        severity: 'error',
        message: `not a VM config: ${binary}; a qemu-server config is text ('key: value' lines), nothing was audited from it: check that this is the right file`,
      };
    }
    const id = vmid === undefined ? vmidFromFileName(path) : vmid;
    const text = bytes.toString('utf8');
    // A container's config (pve-container: every one has `rootfs:`, a key qemu-server does not
    // know) is no VM: it runs no QEMU and has no disk on a controller. The native search first,
    // so 5,000 VM configs cost nothing.
    if (bytes.indexOf(ROOTFS) >= 0 && /^rootfs:/m.test(text)) {
      return {
        source: path,
        severity: 'error',
        message: `not a VM config: an LXC container's config (it has 'rootfs:'); containers run no QEMU, nothing was audited from it: VM configs are in qemu-server/, containers in lxc/`,
      };
    }
    // The digest is over the exact bytes, as PVE computes it, even if they are not valid UTF-8.
    // parseVmConfig never throws on content: it can run later, when the VM is audited.
    const digest = sha1Hex(bytes);
    const parse = (): VmConfigFile => parseVmConfig(text, { vmid: id ?? undefined, source: path, digest });
    if (id === null) return { file: parse(), node };
    let file: VmConfigFile | undefined;
    return {
      get file() {
        return (file ??= parse());
      },
      node,
      deferred: { vmid: id, parse },
    };
  } catch (err) {
    return readError(path, err);
  }
}

interface StorageRead {
  storages: StorageMap;
  issues: ConfigIssue[];
  error?: StorageCfgUnreadable;
}

/** storage.cfg could not be read, so every storage type is unknown. `issue` is how it is reported. */
export class StorageCfgUnreadable extends Error {
  override name = 'StorageCfgUnreadable';
  readonly source: string;
  /** The short why: `no such file or directory`, `permission denied (…)`. */
  readonly why: string;
  /** The error the report lists (with what to do, when the caller knows). */
  issue: ConfigIssue;
  constructor(source: string, why: string) {
    super(`cannot read storage.cfg, so every storage counts as unknown: ${why}`);
    this.source = source;
    this.why = why;
    this.issue = { source, severity: 'error', message: this.message };
  }

  /** What the disk cells say about every storage type: `cannot read <path>: <why>`. */
  get storageTypesUnknown(): string {
    return `cannot read ${this.source}: ${this.why}`;
  }
}

/** A read of configs, with the storage.cfg that could not be read (its issue is one of `errors`). */
interface NodeConfigRead extends ConfigRead {
  storageCfgUnreadable?: StorageCfgUnreadable;
}

const NO_STORAGE: StorageRead = { storages: new Map(), issues: [] };

/** Reads `storage.cfg`; a missing or unreadable file gives no storages and an error issue. */
export async function readStorageCfg(path: string): Promise<StorageRead> {
  try {
    const bytes = await readFile(path);
    const binary = binaryReason(bytes);
    if (binary !== null) throw new Error(`${binary}, not the text of a storage.cfg`);
    const { storages, issues } = parseStorageCfg(bytes.toString('utf8'), path);
    return { storages, issues };
  } catch (err) {
    return { storages: new Map(), issues: [], error: new StorageCfgUnreadable(path, errorText(err)) };
  }
}

async function listConfFiles(dir: string, filter: ReadFilter, ignored?: ConfigIssue[]): Promise<{ path: string; vmid: number }[]> {
  const names = await readdir(dir);
  const out: { path: string; vmid: number }[] = [];
  for (const name of names) {
    const m = CONF_RE.exec(name);
    if (!m) {
      if (ignored && name.endsWith('.conf')) {
        ignored.push({
          source: join(dir, name),
          severity: 'warning',
          message: 'not audited: PVE reads only <vmid>.conf here; rename it (e.g. 102.conf) or pass it with --conf',
        });
      }
      continue;
    }
    const vmid = Number(m[1]);
    if (filter.vmids && !filter.vmids.has(vmid)) continue;
    if (filter.vmidRange && (vmid < filter.vmidRange.from || vmid >= filter.vmidRange.to)) continue;
    out.push({ path: join(dir, name), vmid });
  }
  return out;
}

/** `.vmlist` (pmxcfs) VMID → node map; empty when absent or unreadable. */
async function readVmlist(dir: string): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  try {
    const data = JSON.parse(await readFile(join(dir, '.vmlist'), 'utf8')) as { ids?: Record<string, { node?: string; type?: string }> };
    for (const [id, entry] of Object.entries(data.ids ?? {})) {
      if (entry?.node && (entry.type === undefined || entry.type === 'qemu')) map.set(Number(id), entry.node);
    }
  } catch {
    // no .vmlist in a partial copy: nodes stay unknown
  }
  return map;
}

/** The local node of the tree: the target of the `qemu-server` symlink, else `../hostname` (/etc/hostname on a node). */
async function localNode(dir: string): Promise<{ node: string | null; symlinked: boolean }> {
  try {
    const st = await lstat(join(dir, 'qemu-server'));
    if (st.isSymbolicLink()) {
      const target = await readlink(join(dir, 'qemu-server'));
      const m = /(?:^|\/)nodes\/([^/]+)\/qemu-server\/?$/.exec(target);
      if (m) return { node: m[1] as string, symlinked: true };
    }
  } catch {
    // no qemu-server folder
  }
  try {
    const host = (await readFile(join(resolve(dir), '..', 'hostname'), 'utf8')).trim().split('.')[0];
    if (host) return { node: host, symlinked: false };
  } catch {
    // not on a node and no copied hostname
  }
  return { node: null, symlinked: false };
}

/**
 * Reads an /etc/pve tree. VMs under `nodes/<node>/qemu-server/` get that node; VMs only under
 * `qemu-server/` get the node from `.vmlist`, the symlink target or `../hostname`, else null.
 */
export async function readConfigDir(dir: string, filter: ReadFilter = {}): Promise<NodeConfigRead> {
  const errors: ConfigIssue[] = [];
  const ignored: ConfigIssue[] = [];
  try {
    const st = await lstat(dir);
    if (!st.isDirectory() && !st.isSymbolicLink()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    const e = readError(dir, err, 'cannot read config dir');
    e.message += '; give --config-dir /etc/pve on a node, or the path of a copy of it';
    return { vms: [], storages: new Map(), storageIssues: [], errors: [e] };
  }

  const storagePromise = readStorageCfg(join(dir, 'storage.cfg'));
  const vmlistPromise = readVmlist(dir);
  const localPromise = localNode(dir);

  // nodes/<node>/qemu-server/*.conf
  const jobs: { path: string; vmid: number; node: string | null }[] = [];
  let nodeNames: string[] = [];
  try {
    nodeNames = (await readdir(join(dir, 'nodes'), { withFileTypes: true }))
      .filter((d) => d.isDirectory() || d.isSymbolicLink())
      .map((d) => d.name)
      .sort();
  } catch {
    // a tree with only qemu-server/ is fine
  }
  const perNode = await Promise.all(
    nodeNames
      .filter((n) => filter.node === undefined || n === filter.node)
      .map(async (node) => {
        try {
          return (await listConfFiles(join(dir, 'nodes', node, 'qemu-server'), filter, ignored)).map((f) => ({ ...f, node }));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') errors.push(readError(join(dir, 'nodes', node, 'qemu-server'), err, 'cannot list'));
          return [];
        }
      }),
  );
  for (const list of perNode) jobs.push(...list);
  const seen = new Set(jobs.map((j) => j.vmid));

  // qemu-server/*.conf (the local node's folder, or a plain copy of it)
  const [vmlist, local] = await Promise.all([vmlistPromise, localPromise]);
  const localIsCovered = local.symlinked && local.node !== null && nodeNames.includes(local.node);
  if (!localIsCovered) {
    let flat: { path: string; vmid: number }[] = [];
    try {
      flat = await listConfFiles(join(dir, 'qemu-server'), filter, local.symlinked ? undefined : ignored);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') errors.push(readError(join(dir, 'qemu-server'), err, 'cannot list'));
    }
    for (const f of flat) {
      if (seen.has(f.vmid)) continue;
      const node = vmlist.get(f.vmid) ?? local.node;
      if (filter.node !== undefined && node !== filter.node) continue;
      jobs.push({ ...f, node });
    }
  }

  let noConfigs = false;
  if (jobs.length === 0 && nodeNames.length === 0) {
    try {
      await lstat(join(dir, 'qemu-server'));
    } catch {
      noConfigs = true;
      errors.push({
        source: dir,
        severity: 'error',
        message: 'no VM configs found: expected nodes/<node>/qemu-server/<vmid>.conf or qemu-server/<vmid>.conf (is this a copy of /etc/pve?)',
      });
    }
  }

  const [results, storage] = await Promise.all([Promise.all(jobs.map((j) => readConfFile(j.path, j.node, j.vmid))), storagePromise]);
  const vms: ConfFile[] = [];
  for (const r of results) {
    if ('file' in r) vms.push(r);
    else errors.push(r);
  }
  // Not a copy of /etc/pve at all: a missing storage.cfg is no news then.
  const unreadable = storage.error && !noConfigs ? storage.error : undefined;
  if (unreadable) {
    // In a copied tree the usual cause is a copy without it: say how to give it.
    unreadable.issue = { ...unreadable.issue, message: `${unreadable.message}; copy the cluster's /etc/pve/storage.cfg into ${dir}, or pass --storage-cfg FILE` };
    errors.push(unreadable.issue);
  }
  errors.push(...ignored);
  return { vms, storages: storage.storages, storageIssues: storage.issues, errors, ...(unreadable ? { storageCfgUnreadable: unreadable } : {}) };
}

/**
 * Reads single config files (`--conf`) and an optional storage.cfg. The VMID comes from the file
 * name (`<vmid>.conf`); for other names it is left null for the caller to infer.
 */
export async function readConfFiles(paths: string[], storageCfg: string | undefined, node: string | null = null): Promise<NodeConfigRead> {
  // A file named twice (a shell glob plus a name, `./x` and `x`) is one VM, not two.
  const unique = [...new Map(paths.map((p) => [resolve(p), p])).values()];
  const [results, storage] = await Promise.all([
    Promise.all(unique.map((p) => readConfFile(p, node))),
    storageCfg === undefined ? Promise.resolve(NO_STORAGE) : readStorageCfg(storageCfg),
  ]);
  const vms: ConfFile[] = [];
  const errors: ConfigIssue[] = [];
  for (const r of results) {
    if ('file' in r) vms.push(r);
    else errors.push(r);
  }
  if (storage.error) errors.push(storage.error.issue);
  return { vms, storages: storage.storages, storageIssues: storage.issues, errors, ...(storage.error ? { storageCfgUnreadable: storage.error } : {}) };
}

/**
 * The offline audit's reader of a copy of /etc/pve (or the real one on a node). `storageCfg`
 * replaces the tree's own storage.cfg.
 */
export function etcPveReader(dir: string, opts: { storageCfg?: string } = {}): ConfigReader {
  return {
    tree: true,
    label: dir,
    async read(filter = {}) {
      const { storageCfgUnreadable, ...read } = await readConfigDir(dir, filter);
      let unreadable = storageCfgUnreadable;
      if (opts.storageCfg !== undefined) {
        const override = await readStorageCfg(opts.storageCfg);
        read.storages = override.storages;
        read.storageIssues = override.issues;
        read.errors = read.errors.filter((e) => e !== unreadable?.issue);
        unreadable = override.error;
        if (override.error) read.errors.push(override.error.issue);
      }
      if (unreadable) read.storageTypesUnknown = unreadable.storageTypesUnknown;
      return read;
    },
    readRiskSources: () => readRiskFiles(dir),
  };
}

/**
 * The offline audit's reader of single config files (`--conf`): every VM gets `node`; without
 * `storageCfg` every storage type is unknown, and the report says so.
 */
export function confFilesReader(paths: string[], opts: { storageCfg?: string; node?: string } = {}): ConfigReader {
  return {
    tree: false,
    label: 'the --conf files',
    async read() {
      const { storageCfgUnreadable, ...read } = await readConfFiles(paths, opts.storageCfg, opts.node ?? null);
      if (opts.storageCfg === undefined) {
        read.storageTypesUnknown = 'no storage.cfg given: pass --storage-cfg';
        read.storageIssues.push({
          severity: 'warning',
          message: 'no --storage-cfg given: every storage type is unknown, so the aio mode and O_DIRECT that depend on it are reported as unknown',
        });
      } else {
        if (storageCfgUnreadable) read.storageTypesUnknown = storageCfgUnreadable.storageTypesUnknown;
      }
      return read;
    },
  };
}
