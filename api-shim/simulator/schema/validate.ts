// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Request-parameter validation with PVE::JSONSchema's rules and message texts (pve-common
 * `check_prop`, `check_type`, `parse_property_string`), against the schemas extracted from the
 * real API viewer schema (`pve-api-params.json`).
 */
import { parsePveBoolean } from '../../../src/pve/property-string.js';
import paramsJson from './pve-api-params.json' with { type: 'json' };

/** One property schema as in apidoc.js (descriptions stripped). */
export interface PropSchema {
  type?: string;
  optional?: number;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  /** A named format (`pve-vmid`) or an inline property-string format (sub-key schemas). */
  format?: string | Record<string, PropSchema>;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
  requires?: string;
  default?: unknown;
  items?: PropSchema;
  [k: string]: unknown;
}

export interface ParamsSchema {
  additionalProperties?: number;
  properties?: Record<string, PropSchema>;
}

const ENDPOINT_PARAMS = (paramsJson as unknown as { endpoints: Record<string, ParamsSchema> }).endpoints;

/** Schema of an endpoint's parameters, keyed `METHOD /path/{template}`. */
export function endpointParams(method: string, pathTemplate: string): ParamsSchema | undefined {
  return ENDPOINT_PARAMS[`${method} ${pathTemplate}`];
}

/**
 * Highest index of indexed keys (`scsi[n]` = scsi0..scsi30). From qemu-server's constants
 * (Drive.pm, QemuServer.pm); the schema itself only says "n is 0 to 30" in prose.
 */
const INDEX_MAX: Record<string, number> = {
  ide: 3, sata: 5, scsi: 30, virtio: 15, unused: 255, net: 31, hostpci: 15, usb: 13, serial: 3,
  parallel: 2, numa: 7, ipconfig: 31, virtiofs: 9,
};

/** Finds the schema of a concrete parameter name, resolving `scsi[n]`-style entries. */
export function lookupProperty(schema: ParamsSchema, name: string): PropSchema | undefined {
  const props = schema.properties ?? {};
  const direct = props[name];
  if (direct) return direct;
  const m = /^([a-z][a-z_-]*?)(\d+)$/.exec(name);
  if (!m) return undefined;
  const [, base, idx] = m as unknown as [string, string, string];
  const indexed = props[`${base}[n]`];
  if (!indexed) return undefined;
  if (String(Number(idx)) !== idx || Number(idx) > (INDEX_MAX[base] ?? 255)) return undefined;
  return indexed;
}

/** PVE's parse_boolean (src/pve's reader) as the API hands it back: 1/0, or undefined when the text is no boolean. */
export function parseBoolean(value: string): 1 | 0 | undefined {
  const b = parsePveBoolean(value);
  return b === null ? undefined : b ? 1 : 0;
}

function isInteger(v: string): boolean {
  return /^[+-]?\d+$/.test(v);
}
function isNumber(v: string): boolean {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v);
}

type Errors = Record<string, string>;

function addError(errors: Errors, path: string, msg: string): void {
  // PVE keeps the first error per path.
  if (errors[path] === undefined) errors[path] = msg;
}

/**
 * PVE::Tools::split_list: a value with NUL (a repeated form key, see server.ts decodeForm) splits
 * there, else on commas, semicolons and spaces.
 */
export function splitList(value: string): string[] {
  return (value.includes('\0') ? value.split('\0') : value.split(/[,;\s]+/)).filter(Boolean);
}

const CONFIGID = /^[a-z][a-z0-9_-]+$/i;
const VOLID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;

/** Named formats the simulator checks; unknown names pass (PVE has dozens). Throws the die text. */
function checkNamedFormat(format: string, value: string): void {
  switch (format) {
    case 'pve-vmid':
      if (!/^[1-9][0-9]{2,8}$/.test(value)) throw new Error('value does not look like a valid VM ID\n');
      return;
    case 'pve-configid':
      if (!CONFIGID.test(value)) throw new Error(`invalid configuration ID '${value}'\n`);
      return;
    case 'pve-configid-list':
      for (const id of splitList(value)) {
        if (!CONFIGID.test(id.replace(/^!/, ''))) throw new Error(`invalid configuration ID '${id}'\n`);
      }
      return;
    case 'pve-node':
      if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(value)) throw new Error(`value does not look like a valid node name\n`);
      return;
    case 'pve-storage-id':
      if (!STORAGE_ID.test(value)) throw new Error(`storage ID '${value}' contains illegal characters\n`);
      return;
    case 'pve-volume-id':
      if (!VOLID.test(value)) throw new Error(`unable to parse volume ID '${value}'\n`);
      return;
    case 'pve-volume-id-or-qm-path':
    case 'pve-volume-id-or-absolute-path':
      if (value === 'none' || value === 'cdrom' || value.startsWith('/')) return;
      if (!VOLID.test(value)) throw new Error(`unable to parse volume ID '${value}'\n`);
      return;
    case 'disk-size':
      if (!/^(\d+(\.\d+)?)([KMGT])?$/.test(value)) throw new Error(`unable to parse size '${value}'\n`);
      return;
    case 'mac-addr':
      if (!/^[a-f0-9]{2}(:[a-f0-9]{2}){5}$/i.test(value)) throw new Error(`value does not look like a valid MAC address\n`);
      return;
    case 'urlencoded':
      if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(value)) throw new Error(`invalid urlencoded string: ${value}\n`);
      return;
    default:
      return;
  }
}

/** A die from parse_property_string, with the sub-key errors PVE::Exception prints after it. */
class FormatError extends Error {
  constructor(message: string, readonly subErrors: Errors = {}) {
    super(message);
  }
  override toString(): string {
    return this.message + Object.entries(this.subErrors).map(([k, v]) => `${k}: ${v}\n`).join('');
  }
}

/**
 * PVE's parse_property_string: split on every comma, aliases, one default key, no unknown keys,
 * then check every sub-value. Returns the parsed map; throws a FormatError with PVE's text.
 */
export function parsePropertyString(format: Record<string, PropSchema>, data: string, path: string): Record<string, string> {
  const res: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      let k = kv[1]!;
      let v = kv[2]!;
      if (res[k] !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${k}\n`);
      let schema = format[k];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (res[schema.keyAlias] !== undefined) throw new FormatError(`key alias '${schema.keyAlias}' is already defined\n`);
          res[schema.keyAlias] = k;
        }
        k = schema.alias;
        schema = format[k];
      }
      if (!schema) throw new FormatError(`invalid key in comma-separated list property: ${k}\n`);
      if (schema.type === 'boolean') {
        const b = parseBoolean(v);
        if (b !== undefined) v = String(b);
      }
      res[k] = v;
    } else if (!part.includes('=')) {
      if (defaultKey) throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      defaultKey = Object.keys(format).find((key) => format[key]!.default_key);
      if (!defaultKey) throw new FormatError('value without key, but schema does not define a default key\n');
      if (res[defaultKey] !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      res[defaultKey] = part;
    } else {
      throw new FormatError('missing key in comma-separated list property\n');
    }
  }
  const errors: Errors = {};
  checkObject(path, format, res, false, errors);
  if (Object.keys(errors).length > 0) throw new FormatError('format error\n', errors);
  return res;
}

function checkProp(value: string | undefined, schema: PropSchema, path: string, errors: Errors): void {
  if (value === undefined) {
    if (!schema.optional && !schema.alias) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  const type = schema.type ?? 'string';
  if (type === 'boolean') {
    // pve-common JSONSchema check_type: a boolean parameter is the text 1 or 0 (yes/on/true are
    // taken only inside property strings, normalised before this check, and by the `qm` CLI).
    if (value !== '1' && value !== '0') return addError(errors, path, `type check ('boolean') failed - got '${value}'`);
  } else if (type === 'integer') {
    if (!isInteger(value)) return addError(errors, path, `type check ('integer') failed - got '${value}'`);
  } else if (type === 'number') {
    if (!isNumber(value)) return addError(errors, path, `type check ('number') failed - got '${value}'`);
  }
  if (schema.format !== undefined) {
    try {
      if (typeof schema.format === 'string') checkNamedFormat(schema.format, value);
      else parsePropertyString(schema.format, value, path);
    } catch (e) {
      return addError(errors, path, `invalid format - ${e instanceof FormatError ? e.toString() : (e as Error).message}`);
    }
  }
  if (schema.pattern !== undefined && !patternMatches(schema.pattern, value)) {
    return addError(errors, path, 'value does not match the regex pattern');
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    return addError(errors, path, `value may only be ${schema.maxLength} characters long`);
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return addError(errors, path, `value must be at least ${schema.minLength} characters long`);
  }
  if (isNumber(value)) {
    if (schema.maximum !== undefined && Number(value) > schema.maximum) {
      return addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
    }
    if (schema.minimum !== undefined && Number(value) < schema.minimum) {
      return addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
    }
  }
  if (schema.enum && !schema.enum.includes(value)) {
    addError(errors, path, `value '${value}' does not have a value in the enumeration '${schema.enum.join(', ')}'`);
  }
}

const patternCache = new Map<string, RegExp | null>();
/** PVE patterns are Perl regexes anchored with ^...$; ones JS cannot compile are not checked. */
function patternMatches(pattern: string, value: string): boolean {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern.replace(/\(\?\^:/g, '(?:').replace(/\{,(\d+)\}/g, '{0,$1}')})$`);
    } catch {
      re = null;
    }
    patternCache.set(pattern, re);
  }
  return re === null ? true : re.test(value);
}

function checkObject(
  path: string,
  props: Record<string, PropSchema>,
  value: Record<string, string>,
  additionalProperties: boolean,
  errors: Errors,
  lookup: (name: string) => PropSchema | undefined = (n) => props[n],
): void {
  const sub = (k: string) => (path ? `${path}.${k}` : k);
  for (const [k, schema] of Object.entries(props)) {
    if (k.endsWith('[n]') || schema.alias) continue;
    checkProp(value[k], schema, sub(k), errors);
    if (schema.requires && value[k] !== undefined && value[schema.requires] === undefined) {
      addError(errors, sub(schema.requires), `missing property - '${sub(k)}' requires this property`);
    }
  }
  for (const k of Object.keys(value)) {
    const schema = lookup(k);
    if (!schema) {
      if (!additionalProperties) {
        addError(errors, sub(k), 'property is not defined in schema and the schema does not allow additional properties');
      }
      continue;
    }
    if (props[k] === undefined) checkProp(value[k], schema, sub(k), errors);
  }
}

/**
 * Validates request parameters (path parameters included) against an endpoint schema.
 * Returns the per-parameter errors (empty when valid) and the parameters with top-level booleans
 * normalised to '1'/'0', as PVE's check_type does before the handler sees them.
 */
export function validateParams(
  schema: ParamsSchema,
  params: Record<string, string>,
  /** Own check for some parameters: a message, null (valid), or undefined (use the schema). */
  override?: (name: string, value: string) => string | null | undefined,
): { errors: Record<string, string>; params: Record<string, string> } {
  const errors: Errors = {};
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const own = override?.(k, v);
    if (own === undefined) rest[k] = v;
    else if (own !== null) addError(errors, k, own);
  }
  const props = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => rest[k] !== undefined || params[k] === undefined));
  checkObject('', props, rest, schema.additionalProperties !== 0, errors, (n) => lookupProperty(schema, n));
  return { errors, params: { ...params } };
}

/** Checks one property-string value against an inline format; returns PVE's error text or null. */
export function checkFormatValue(format: Record<string, PropSchema>, value: string, path: string): string | null {
  try {
    parsePropertyString(format, value, path);
    return null;
  } catch (e) {
    return `invalid format - ${e instanceof FormatError ? e.toString() : (e as Error).message}`;
  }
}
