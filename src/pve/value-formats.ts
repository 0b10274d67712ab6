// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Formats of the non-drive property strings the tool reads, as qemu-server and pve-manager declare
 * them, so every one goes through the one parser (property-string.ts):
 * - `machine`: qemu-server src/PVE/QemuServer/Machine.pm `$machine_fmt`
 * - `meta`: qemu-server src/PVE/QemuServer/MetaInfo.pm `$meta_info_fmt`
 * - `agent`: qemu-server src/PVE/QemuServer/Agent.pm `$agent_fmt`
 * - `boot`: qemu-server src/PVE/QemuServer.pm `$boot_fmt`
 * - vzdump `fleecing`: pve-manager PVE/VZDump.pm / pve-guest-common `$fleecing_fmt`
 * Values are read like PVE's parse_property_string (no trimming); the readers here are lenient:
 * a string PVE would refuse still gives what can be read from it (the callers report refusals).
 */
import type { PropertyFormat } from './property-string.js';
import { getPart, parsePveBoolean, scanPropertyString } from './property-string.js';

export const MACHINE_FORMAT: PropertyFormat = {
  type: { type: 'string', defaultKey: true },
  viommu: { type: 'enum', values: ['intel', 'virtio'] },
  'aw-bits': { type: 'number', minimum: 32, maximum: 64 },
  'enable-s3': { type: 'boolean' },
  'enable-s4': { type: 'boolean' },
};

export const META_FORMAT: PropertyFormat = {
  ctime: { type: 'integer', minimum: 0 },
  'creation-qemu': { type: 'string', pattern: /\d+(\.\d+)+/ },
};

export const AGENT_FORMAT: PropertyFormat = {
  enabled: { type: 'boolean', defaultKey: true },
  fstrim_cloned_disks: { type: 'boolean' },
  'freeze-fs': { type: 'boolean' },
  'freeze-fs-on-backup': { alias: 'freeze-fs' },
  'guest-fsfreeze': { alias: 'freeze-fs' },
  type: { type: 'enum', values: ['virtio', 'isa'] },
};

export const BOOT_FORMAT: PropertyFormat = {
  legacy: { type: 'string', defaultKey: true, pattern: /[acdn]{1,4}/ },
  order: { type: 'string' },
};

export const FLEECING_FORMAT: PropertyFormat = {
  enabled: { type: 'boolean', defaultKey: true },
  storage: { type: 'string' },
};

/** The value of `key` in the property string `text` of `format` (last one wins), or undefined. */
export function propertyValue(text: string, format: PropertyFormat, key: string): string | undefined {
  return getPart(scanPropertyString(text, format).ps, key);
}

/** The guest agent is enabled (`agent: 1`, `agent: enabled=1,fstrim_cloned_disks=1`; default key `enabled`, default off). */
export function agentEnabled(value: string | undefined): boolean {
  return value !== undefined && propertyFlag(value, AGENT_FORMAT, 'enabled', false);
}

/** A boolean key of a property string: PVE's boolean words, `fallback` when unset or unreadable. */
export function propertyFlag(text: string, format: PropertyFormat, key: string, fallback: boolean): boolean {
  const value = propertyValue(text, format, key);
  return value === undefined ? fallback : (parsePveBoolean(value) ?? fallback);
}
