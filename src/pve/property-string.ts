// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PVE property strings (`[file=]local:vm-100-disk-0,iothread=1,size=32G`), modelled on
 * pve-common PVE::JSONSchema parse_property_string / print_property_string (docs/how-qemu-server-decides.md#drive-keys).
 *
 * Two ways to read one:
 * - {@link scanPropertyString} never throws: it keeps every part exactly as written (even the
 *   ones PVE would reject) and lists the problems. Drives and configs use this.
 * - {@link parsePropertyString} is strict like PVE: the first problem throws a
 *   {@link PropertyStringError}.
 *
 * {@link printPropertyString} gives the text back byte for byte; {@link canonicalPropertyString}
 * gives what PVE prints after it parsed the value (what the API returns after an update).
 */
import type { PropertyPart, PropertyString } from './types.js';
import { decodePercentUtf8, encodeUtf8 } from './text-codec.js';

/** Named value formats PVE checks with a registered validator (`format => '...'`). */
export type PropertyValueFormat =
  | 'disk-size'
  | 'urlencoded'
  | 'pve-volume-id'
  | 'pve-volume-id-or-qm-path'
  | 'pve-volume-id-or-absolute-path';

/** Schema of one key of a property string. */
export interface PropertySpec {
  type: 'boolean' | 'integer' | 'number' | 'string' | 'enum';
  /** Allowed values when `type` is `enum`. */
  values?: readonly string[];
  /** The key taken by a part written without `key=` (e.g. `file` of a drive). */
  defaultKey?: boolean;
  /** PVE's `optional`; only the default key of drives is required. Defaults to true. */
  optional?: boolean;
  /** Value is URL-encoded (`serial`, `model`): see {@link decodeUrlValue}. */
  urlEncoded?: boolean;
  /** Named PVE format check. `disk-size` values are also re-printed by the canonical printer. */
  format?: PropertyValueFormat;
  /** Whole-value pattern (PVE matches `^pattern$`). */
  pattern?: RegExp;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/** A key that PVE reads as another key (`volume` -> `file`, `bps_rd_length` -> `bps_rd_max_length`). */
export interface PropertyAlias {
  alias: string;
}

/** Format description: key -> schema, as PVE's `$fmt` hashes. */
export type PropertyFormat = Readonly<Record<string, PropertySpec | PropertyAlias>>;

/** Error of a strict parse or of an impossible edit. Never any other error type from this module. */
export class PropertyStringError extends Error {
  /** The whole property string that was being read. */
  readonly input: string;
  /** The (canonical) key concerned, when there is one. */
  readonly key?: string;
  /** PVE's own wording of the problem, e.g. `duplicate key in comma-separated list property: file`. */
  readonly reason: string;

  constructor(input: string, reason: string, key?: string) {
    super(`${key !== undefined && !reason.endsWith(`: ${key}`) ? `${key}: ` : ''}${reason} (in '${clip(input)}')`);
    this.name = 'PropertyStringError';
    this.input = input;
    this.reason = reason;
    if (key !== undefined) this.key = key;
  }
}

/** One problem found by {@link scanPropertyString}. */
export interface PropertyProblem {
  key?: string;
  reason: string;
  /** `structure`: PVE dies while splitting; `value`: the schema check of one value failed. */
  kind: 'structure' | 'value';
}

export interface PropertyScan {
  ps: PropertyString;
  problems: PropertyProblem[];
}

/** Perl's `\s` on ASCII text. JS `\s` also matches Unicode spaces, which Perl (bytes) does not. */
const PERL_BLANK = /^[ \t\n\r\f\v]*$/;

/** PERL_BLANK.test, without the regex for the usual part that starts with a letter. */
function isBlank(part: string): boolean {
  const c = part.charCodeAt(0);
  return part === '' || ((c === 32 || (c >= 9 && c <= 13)) && PERL_BLANK.test(part));
}

/** Is `spec` an alias entry? */
export function isAlias(spec: PropertySpec | PropertyAlias | undefined): spec is PropertyAlias {
  return spec !== undefined && 'alias' in spec;
}

interface FormatInfo {
  defaultKey: string | null;
  required: string[];
}

// Formats are static tables; what is derived from them is computed once per format object.
const formatInfo = new WeakMap<PropertyFormat, FormatInfo>();

function infoOf(format: PropertyFormat): FormatInfo {
  let info = formatInfo.get(format);
  if (!info) {
    info = { defaultKey: null, required: [] };
    for (const [key, spec] of Object.entries(format)) {
      if (isAlias(spec)) continue;
      if (spec.defaultKey && info.defaultKey === null) info.defaultKey = key;
      if (spec.optional === false) info.required.push(key);
    }
    formatInfo.set(format, info);
  }
  return info;
}

/** The key that parts written without `key=` take, or null. */
export function defaultKeyOf(format: PropertyFormat): string | null {
  return infoOf(format).defaultKey;
}

/** What a key of a format stands for, worked out once per format and key. */
interface KeyInfo {
  /** The key it is read as (an alias resolved). */
  canonical: string;
  /** The schema of `canonical`, if it has one. */
  canonicalSpec: PropertySpec | undefined;
  /** The schema of the key itself (undefined for an alias). */
  ownSpec: PropertySpec | undefined;
}

const keyInfos = new WeakMap<PropertyFormat, Map<string, KeyInfo>>();

function rawSpecOf(format: PropertyFormat, key: string): PropertySpec | undefined {
  const spec = Object.hasOwn(format, key) ? format[key] : undefined;
  return spec === undefined || isAlias(spec) ? undefined : spec;
}

/** The format's keys as one Map look-up each (a drive has ~50 keys with aliases; 5,000 VMs scan ~20,000 drives). */
function keyInfosOf(format: PropertyFormat): Map<string, KeyInfo> {
  let infos = keyInfos.get(format);
  if (!infos) {
    infos = new Map();
    for (const [key, spec] of Object.entries(format)) {
      const canonical = isAlias(spec) ? spec.alias : key;
      infos.set(key, { canonical, canonicalSpec: rawSpecOf(format, canonical), ownSpec: rawSpecOf(format, key) });
    }
    keyInfos.set(format, infos);
  }
  return infos;
}

/** Canonical key for a written key (resolves aliases); the written key itself when unknown. */
export function canonicalKey(format: PropertyFormat, written: string): string {
  return keyInfosOf(format).get(written)?.canonical ?? written;
}

function specOf(format: PropertyFormat, key: string): PropertySpec | undefined {
  return keyInfosOf(format).get(key)?.ownSpec;
}

/**
 * PVE parse_boolean: `1|on|yes|true` -> true, `0|off|no|false` -> false (any case), else null.
 */
export function parsePveBoolean(value: string): boolean | null {
  // What configs nearly always hold (and the checks of every drive's options ask), without the
  // case-insensitive regexes.
  if (value === '1') return true;
  if (value === '0') return false;
  if (/^(1|on|yes|true)$/i.test(value)) return true;
  if (/^(0|off|no|false)$/i.test(value)) return false;
  return null;
}

/**
 * Reads a property string without ever throwing. Every comma-separated part is kept as written,
 * including empty parts (PVE skips them) and parts PVE would reject, so that
 * {@link printPropertyString} reproduces `text` exactly. Problems come back in part order,
 * structural ones first, worded like PVE. `checkValues: false` leaves out the schema check of each
 * value (for readers that only look values up, such as the throttle limits of a drive).
 */
export function scanPropertyString(text: string, format: PropertyFormat, opts: { checkValues?: boolean } = {}): PropertyScan {
  const parts: PropertyPart[] = [];
  const problems: PropertyProblem[] = [];
  const defaultKey = defaultKeyOf(format);
  const infos = keyInfosOf(format);
  // PVE's `$res`: canonical keys set so far. Its duplicate check looks up the key *as written*
  // in it, so `file=a,volume=b` is no duplicate (the alias silently overwrites).
  const seen = new Set<string>();
  let defaultUsed = false;

  for (const raw of text.split(',')) {
    if (isBlank(raw)) {
      parts.push({ key: '', writtenKey: null, value: raw });
      continue;
    }
    // PVE's `^([^=]+)=(.+)$`: a key before the first `=`, and something after it.
    const eq = raw.indexOf('=');
    if (eq > 0 && eq < raw.length - 1) {
      const written = raw.slice(0, eq);
      const value = raw.slice(eq + 1);
      const info = infos.get(written);
      const key = info?.canonical ?? written;
      if (seen.has(written)) {
        problems.push({ key, reason: `duplicate key in comma-separated list property: ${written}`, kind: 'structure' });
      } else if (!info?.canonicalSpec) {
        problems.push({ key, reason: `invalid key in comma-separated list property: ${key}`, kind: 'structure' });
      }
      seen.add(key);
      parts.push({ key, writtenKey: written, value });
      continue;
    }
    if (eq < 0) {
      if (defaultKey === null) {
        problems.push({ reason: 'value without key, but schema does not define a default key', kind: 'structure' });
        parts.push({ key: raw, writtenKey: null, value: raw });
        continue;
      }
      if (defaultUsed || seen.has(defaultKey)) {
        problems.push({ key: defaultKey, reason: `duplicate key in comma-separated list property: ${defaultKey}`, kind: 'structure' });
      }
      defaultUsed = true;
      seen.add(defaultKey);
      parts.push({ key: defaultKey, writtenKey: null, value: raw });
      continue;
    }
    // `key=` (empty value) or `=value`: PVE's key=value regex needs one char on each side.
    const written = raw.slice(0, eq);
    const key = written === '' ? '' : canonicalKey(format, written);
    problems.push({ ...(key ? { key } : {}), reason: 'missing key in comma-separated list property', kind: 'structure' });
    parts.push({ key, writtenKey: written, value: raw.slice(eq + 1) });
  }

  const ps: PropertyString = { parts };
  if (opts.checkValues !== false) problems.push(...checkValues(ps, format));
  return { ps, problems };
}

/** PVE check_object on the effective values (last part wins per key). */
function checkValues(ps: PropertyString, format: PropertyFormat): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  const values = effectiveValues(ps);
  const infos = keyInfosOf(format);
  for (const [key, value] of values) {
    const spec = infos.get(key)?.ownSpec;
    if (!spec) continue;
    const reason = checkValue(spec, value);
    if (reason !== null) problems.push({ key, reason, kind: 'value' });
  }
  for (const key of infoOf(format).required) {
    if (!values.has(key)) problems.push({ key, reason: 'property is missing and it is not optional', kind: 'value' });
  }
  return problems;
}

/** Last value per canonical key, skipping empty parts; in first-seen key order. */
function effectiveValues(ps: PropertyString): Map<string, string> {
  const values = new Map<string, string>();
  for (const part of ps.parts) {
    if (isEmptyPart(part) || part.key === '') continue;
    values.set(part.key, part.value);
  }
  return values;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DISK_SIZE = /^(\d+(\.\d+)?)([KMGT])?$/;
const URLENCODED = /^[-%a-zA-Z0-9_.!~*'()]*$/;
const VOLUME_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is;

/** Returns PVE's complaint about one value, or null when the value passes. */
export function checkValue(spec: PropertySpec, value: string): string | null {
  switch (spec.type) {
    case 'boolean':
      if (parsePveBoolean(value) === null) return `type check ('boolean') failed - got '${value}'`;
      break;
    case 'integer':
    case 'number': {
      if (!(spec.type === 'integer' ? INTEGER : NUMBER).test(value)) {
        return `type check ('${spec.type}') failed - got '${value}'`;
      }
      const n = Number(value);
      if (spec.minimum !== undefined && n < spec.minimum) return `value must have a minimum value of ${spec.minimum}`;
      if (spec.maximum !== undefined && n > spec.maximum) return `value must have a maximum value of ${spec.maximum}`;
      break;
    }
    case 'enum':
      if (!spec.values?.includes(value)) {
        return `value '${value}' does not have a value in the enumeration '${(spec.values ?? []).join(', ')}'`;
      }
      break;
    case 'string':
      break;
  }
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    return `value may only be ${spec.maxLength} characters long`;
  }
  if (spec.pattern && !spec.pattern.test(value)) return 'value does not match the regex pattern';
  if (spec.format) return checkFormat(spec.format, value);
  return null;
}

function checkFormat(format: PropertyValueFormat, value: string): string | null {
  switch (format) {
    case 'disk-size':
      return DISK_SIZE.test(value) ? null : `unable to parse size '${value}'`;
    case 'urlencoded':
      return URLENCODED.test(value) ? null : `invalid urlencoded string: ${value}`;
    case 'pve-volume-id':
      return VOLUME_ID.test(value) ? null : `unable to parse volume ID '${value}'`;
    case 'pve-volume-id-or-absolute-path':
      return value.startsWith('/') || VOLUME_ID.test(value) ? null : `unable to parse volume ID '${value}'`;
    case 'pve-volume-id-or-qm-path':
      if (value === 'none' || value === 'cdrom' || value.startsWith('/')) return null;
      return VOLUME_ID.test(value) ? null : `unable to parse volume ID '${value}'`;
  }
}

/**
 * Strict parse, as PVE's parse_property_string: throws {@link PropertyStringError} on the first
 * problem (structure first, then values). Values are kept exactly as written.
 */
export function parsePropertyString(text: string, format: PropertyFormat): PropertyString {
  try {
    const { ps, problems } = scanPropertyString(text, format);
    const first = problems[0];
    if (first) throw new PropertyStringError(text, first.reason, first.key);
    return ps;
  } catch (err) {
    if (err instanceof PropertyStringError) throw err;
    // Defensive: nothing above should throw anything else, but the contract is "only this type".
    throw new PropertyStringError(text, `cannot read property string: ${String(err)}`);
  }
}

/** An empty part that PVE skips (kept only so the string prints back exactly). */
export function isEmptyPart(part: PropertyPart): boolean {
  return part.key === '' && part.writtenKey === null;
}

/** The text exactly as written (until a part was changed with {@link setPart}/{@link removePart}). */
export function printPropertyString(ps: PropertyString): string {
  return ps.parts.map((p) => (p.writtenKey === null ? p.value : `${p.writtenKey}=${p.value}`)).join(',');
}

/**
 * PVE's print_property_string of the parsed value: the default key first without `key=`, the
 * other keys sorted (byte order), booleans as 1/0, `disk-size` values re-printed (`1024M` -> `1G`),
 * empty parts dropped, later duplicates winning. Keys unknown to `format` are kept (sorted in).
 */
export function canonicalPropertyString(ps: PropertyString, format: PropertyFormat): string {
  const values = effectiveValues(ps);
  const defaultKey = defaultKeyOf(format);
  const infos = keyInfosOf(format);
  const out: string[] = [];
  const render = (key: string, value: string): string => {
    const spec = specOf(format, key);
    if (spec?.type === 'boolean') {
      const b = parsePveBoolean(value);
      if (b !== null) return b ? '1' : '0';
    }
    if (spec?.format === 'disk-size') {
      const bytes = parseSize(value);
      if (bytes !== null) return formatSize(bytes);
    }
    return value;
  };
  if (defaultKey !== null && values.has(defaultKey)) out.push(render(defaultKey, values.get(defaultKey)!));
  for (const key of [...values.keys()].sort(byteOrder)) {
    if (key === defaultKey) continue;
    out.push(`${key}=${render(key, values.get(key)!)}`);
  }
  return out.join(',');
}

/** Perl `sort` order (code units; equal to byte order for ASCII keys). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The effective value of `key` (canonical name; aliases resolved at parse), or undefined. */
export function getPart(ps: PropertyString, key: string): string | undefined {
  let found: string | undefined;
  for (const part of ps.parts) if (part.key === key && !isEmptyPart(part)) found = part.value;
  return found;
}

/**
 * Returns a copy with `key` set to `value`. An existing part keeps its position and written
 * spelling (`volume=`, bare default key); earlier duplicates of it are dropped. A new key is
 * appended (the default key is put first, without `key=`). Throws {@link PropertyStringError}
 * for a value PVE cannot store (`illegal value with commas for <key>`).
 */
export function setPart(ps: PropertyString, key: string, value: string): PropertyString {
  if (value.includes(',')) {
    throw new PropertyStringError(printPropertyString(ps), `illegal value with commas for ${key}`, key);
  }
  let last = -1;
  ps.parts.forEach((p, i) => {
    if (p.key === key && !isEmptyPart(p)) last = i;
  });
  if (last >= 0) {
    const parts = ps.parts
      .map((p, i) => (i === last ? { ...p, value } : p))
      .filter((p, i) => i === last || p.key !== key || isEmptyPart(p));
    return { parts };
  }
  return { parts: [...ps.parts, { key, writtenKey: key, value }] };
}

/**
 * Like {@link setPart}, but a new default key (e.g. `file`) goes first and is written bare.
 */
export function setDefaultPart(ps: PropertyString, key: string, value: string): PropertyString {
  if (getPart(ps, key) !== undefined) return setPart(ps, key, value);
  if (value.includes(',')) {
    throw new PropertyStringError(printPropertyString(ps), `illegal value with commas for ${key}`, key);
  }
  return { parts: [{ key, writtenKey: null, value }, ...ps.parts] };
}

/** Returns a copy without any part of `key` (canonical name). */
export function removePart(ps: PropertyString, key: string): PropertyString {
  return { parts: ps.parts.filter((p) => p.key !== key || isEmptyPart(p)) };
}

/**
 * Decodes a URL-encoded value (`serial`, `model`) like PVE's uri_unescape followed by UTF-8
 * decoding; malformed UTF-8 becomes U+FFFD. Never throws.
 */
export function decodeUrlValue(value: string): string {
  return decodePercentUtf8(value);
}

/**
 * Encodes text for a URL-encoded option: everything outside `A-Za-z0-9-_.!~*'()` becomes `%XX`
 * of its UTF-8 bytes (the set PVE's `urlencoded` format accepts; same as encodeURIComponent,
 * but lone surrogates are encoded as U+FFFD instead of throwing).
 */
export function encodeUrlValue(text: string): string {
  let out = '';
  for (const byte of encodeUtf8(text)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const UNIT_SHIFT: Record<string, bigint> = { K: 10n, M: 20n, G: 30n, T: 40n };

/** PVE parse_size: `32G` -> bytes (truncated to an integer), or null when not a disk size. */
export function parseSize(text: string): bigint | null {
  const m = DISK_SIZE.exec(text);
  if (!m) return null;
  const unit = m[3];
  const shift = unit ? UNIT_SHIFT[unit]! : 0n;
  if (m[2] === undefined) return BigInt(m[1]!) << shift;
  // Fractional sizes: PVE multiplies a float and truncates; do the same with exact decimals.
  const [whole, frac] = m[1]!.split('.') as [string, string];
  const scale = 10n ** BigInt(frac.length);
  return ((BigInt(whole + frac) << shift) / scale);
}

/** PVE format_size: bytes -> the largest exact unit (`34359738368` -> `32G`; `0` -> `0T`). */
export function formatSize(bytes: bigint): string {
  const kb = bytes / 1024n;
  if (kb * 1024n !== bytes) return bytes.toString();
  const mb = kb / 1024n;
  if (mb * 1024n !== kb) return `${kb}K`;
  const gb = mb / 1024n;
  if (gb * 1024n !== mb) return `${mb}M`;
  const tb = gb / 1024n;
  if (tb * 1024n !== gb) return `${gb}G`;
  return `${tb}T`;
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
