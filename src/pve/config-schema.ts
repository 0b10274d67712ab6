// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Top-level VM config keys and how qemu-server's check_type reads their values (QemuServer.pm
 * $confdesc, check_type; docs/how-qemu-server-decides.md#reading-the-config). Key list and types from the PVE 9.1 API schema
 * (`PUT /nodes/{node}/qemu/{vmid}/config`) plus the keys only found in files (`meta`, `parent`,
 * `snaptime`, `vmstate`, `runningmachine`, `runningcpu`, `running-nets-host-mtu`, `snapstate`).
 *
 * check_type normalises booleans to 1/0 and integers to plain digits, strips surrounding double
 * quotes from plain strings, and keeps formatted strings (drives, `machine`, `net0` ...) verbatim.
 * PVE drops a key whose value fails, and every key it does not know ("unknown setting").
 */
import { parseDriveKey } from './drive-keys.js';
import { driveFormat } from './drive-formats.js';
import { parsePveBoolean, scanPropertyString } from './property-string.js';

type ValueType = 'boolean' | 'integer' | 'number' | 'string' | 'formatted';

const TYPES: Record<string, ValueType> = {};
const put = (type: ValueType, keys: string): void => {
  for (const k of keys.trim().split(/\s+/)) TYPES[k] = type;
};
put('boolean', 'acpi allow-ksm autostart ciupgrade force freeze keephugepages kvm localtime numa onboot protection reboot skiplock tablet tdf template');
put('integer', 'balloon cores cpuunits migrate_speed shares smp sockets vcpus vmid snaptime');
put('number', 'cpulimit migrate_downtime');
// Plain strings (enum or pattern, no registered format): check_type strips surrounding quotes.
put('string', 'arch bios cipassword citype ciuser hugepages keyboard lock ostype scsihw searchdomain startdate vmgenid runningcpu');
put(
  'formatted',
  'affinity agent amd-sev audio0 boot bootdisk cdrom cicustom cpu efidisk0 hookscript hotplug intel-tdx ivshmem machine memory name nameserver rng0 smbios1 spice_enhancements sshkeys startup tags tpmstate0 vga vmstatestorage watchdog meta parent vmstate runningmachine running-nets-host-mtu snapstate',
);

/** Families written `<name><n>`; non-drive ones accept any index here (limits vary by machine). */
const FAMILY: Record<string, ValueType> = {
  hostpci: 'formatted',
  ipconfig: 'formatted',
  net: 'formatted',
  numa: 'formatted',
  parallel: 'string',
  serial: 'string',
  usb: 'formatted',
  virtiofs: 'formatted',
};

/** Keys that are handled by the parser/writer itself, never by check_type. */
export const SPECIAL_KEYS: ReadonlySet<string> = new Set(['args', 'description', 'delete', 'digest']);

/** typeOf of the keys seen so far (a config has a few dozen distinct keys; bounded for odd input). */
const typeCache = new Map<string, ValueType | null>();

function typeOf(key: string): ValueType | null {
  let type = typeCache.get(key);
  if (type === undefined) {
    type = keyType(key);
    if (typeCache.size < 4096) typeCache.set(key, type);
  }
  return type;
}

function keyType(key: string): ValueType | null {
  if (Object.hasOwn(TYPES, key)) return TYPES[key]!;
  if (parseDriveKey(key)) return 'formatted';
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (m && Object.hasOwn(FAMILY, m[1]!)) return FAMILY[m[1]!]!;
  return null;
}

/** True when PVE's schema knows `key` (else PVE drops it with "unknown setting"). */
export function isKnownConfigKey(key: string): boolean {
  return SPECIAL_KEYS.has(key) || typeOf(key) !== null;
}

export interface CheckedValue {
  /** The value as PVE holds it after reading (and therefore writes it back). */
  value: string;
  /** PVE's complaint when it would drop the key, else null. */
  problem: string | null;
}

/**
 * qemu-server check_type for one `key: value` line. Unknown keys and `args` are returned unchanged
 * (without a problem: callers report unknown keys themselves).
 */
export function checkConfigValue(key: string, value: string): CheckedValue {
  const type = typeOf(key);
  if (type === null || key === 'args') return { value, problem: null };
  if (value.includes('\n') || value.includes('\r')) return { value, problem: 'property contains a line feed' };
  switch (type) {
    case 'boolean': {
      const b = parsePveBoolean(value);
      return b === null
        ? { value, problem: `type check ('boolean') failed - got '${value}'` }
        : { value: b ? '1' : '0', problem: null };
    }
    case 'integer':
      return /^\d+$/.test(value)
        ? { value: value.length > 1 && value.charCodeAt(0) === 48 ? value.replace(/^0+(?=\d)/, '') : value, problem: null }
        : { value, problem: `type check ('integer') failed - got '${value}'` };
    case 'number':
      return /^\d+(\.\d+)?$/.test(value) ? { value, problem: null } : { value, problem: `type check ('number') failed - got '${value}'` };
    case 'string':
      // `^"(.*)"$`: the quotes around the whole value go.
      return { value: value.length >= 2 && value.charCodeAt(0) === 34 && value.endsWith('"') ? value.slice(1, -1) : value, problem: null };
    case 'formatted':
      return { value, problem: null };
  }
}

/** The value PVE would hold for `key` after reading `value` (see {@link checkConfigValue}). */
export function normalizedConfigValue(key: string, value: string): string {
  return checkConfigValue(key, value).value;
}

/**
 * Why qemu-server's parse_vm_config drops the line `key: value` when it reads the file (it warns
 * "unable to parse value of 'KEY'" and goes on without it), or null when it keeps it: an unknown
 * key, a value check_type refuses, or a drive string its format refuses. Lines PVE keeps but
 * parse_drive rejects later (e.g. `media=cdrom,snapshot=1`) are kept here too.
 */
export function droppedOnRead(key: string, value: string): string | null {
  if (SPECIAL_KEYS.has(key)) return null;
  if (!isKnownConfigKey(key)) return `unknown setting '${key}'`;
  const checked = checkConfigValue(key, value);
  if (checked.problem !== null) return checked.problem;
  const drive = parseDriveKey(key);
  if (drive) {
    const problem = scanPropertyString(value, driveFormat(drive.kind)).problems[0];
    if (problem) return problem.reason;
  }
  return null;
}
