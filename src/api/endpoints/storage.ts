// SPDX-License-Identifier: AGPL-3.0-or-later
import type { StorageEntry, StorageMap } from '../../pve/types.js';
import type { PveClient, RequestOptions } from '../client.js';
import { apiPath } from '../params.js';

/**
 * One storage.cfg section as `GET /storage` returns it: `storage`, `type`, `content` (comma
 * list), `digest` (of storage.cfg) plus the type-specific keys (`krbd`, `nocow`, `path`, `pool`,
 * `shared`, `disable`, `nodes`, ...). Booleans are 0/1.
 */
export interface StorageConfigEntry {
  storage: string;
  type: string;
  content?: string;
  digest?: string;
  [key: string]: unknown;
}

/**
 * `GET /storage` - lists only the storages the caller has Datastore.Audit (or
 * Datastore.AllocateSpace) on; the others are silently missing, never an error.
 */
export function fetchStorageConfig(
  client: PveClient,
  params: { type?: string } = {},
  options?: RequestOptions,
): Promise<StorageConfigEntry[]> {
  return client.get<StorageConfigEntry[]>('/storage', params, options);
}

/**
 * The API list as the StorageMap that storage.cfg parsing produces: `id`, `type`, and every other
 * key as written text (`krbd: 1` -> `'1'`). `digest` belongs to the file, not the section, and is
 * left out.
 */
export function storageMapFromConfig(entries: readonly StorageConfigEntry[]): StorageMap {
  const map: StorageMap = new Map();
  for (const e of entries) {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(e)) {
      if (k === 'storage' || k === 'type' || k === 'digest' || v === undefined || v === null) continue;
      props[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    const entry: StorageEntry = { id: e.storage, type: e.type, props };
    map.set(e.storage, entry);
  }
  return map;
}

/** One entry of `GET /nodes/{node}/storage` (status of the storages on one node). */
export interface NodeStorageStatus {
  storage: string;
  type: string;
  content?: string;
  /** 0/1. */
  enabled?: 0 | 1;
  active?: 0 | 1;
  shared?: 0 | 1;
  /** Bytes. */
  total?: number;
  used?: number;
  avail?: number;
  used_fraction?: number;
  [member: string]: unknown;
}

/** `GET /nodes/{node}/storage`. */
export function fetchNodeStorageStatus(
  client: PveClient,
  node: string,
  options?: RequestOptions,
): Promise<NodeStorageStatus[]> {
  return client.get<NodeStorageStatus[]>(apiPath`/nodes/${node}/storage`, undefined, options);
}

/** One volume of `GET /nodes/{node}/storage/{storage}/content`. */
export interface StorageContentEntry {
  /** `nas:100/vm-100-disk-0.qcow2`, `ceph:vm-100-state-pre`. */
  volid: string;
  /** `images`, `iso`, `backup`, ... */
  content?: string;
  format?: string;
  /** The owning guest, for guest volumes. */
  vmid?: number | string;
  size?: number;
  [member: string]: unknown;
}

/**
 * `GET /nodes/{node}/storage/{storage}/content` - needs Datastore.Audit or
 * Datastore.AllocateSpace on `/storage/{storage}`; guest volumes are listed only where the caller
 * has VM.Audit on the guest (pve-storage PVE/API2/Storage/Content.pm `index`).
 */
export function fetchStorageContent(
  client: PveClient,
  node: string,
  storage: string,
  params: { content?: string; vmid?: number } = {},
  options?: RequestOptions,
): Promise<StorageContentEntry[]> {
  return client.get<StorageContentEntry[]>(apiPath`/nodes/${node}/storage/${storage}/content`, params, options);
}
