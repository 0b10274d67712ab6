// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Checks an answer against the `returns` schema of its endpoint (pve-api-returns.json, from the
 * PVE API viewer schema): JSON types as PVE::JSONSchema means them (booleans as 0/1), required
 * (non-optional) members, and enums. Returns one line per problem, `path: what`.
 */

export interface ReturnSchema {
  type?: string | string[];
  optional?: number;
  enum?: unknown[];
  properties?: Record<string, ReturnSchema>;
  items?: ReturnSchema;
  [k: string]: unknown;
}

export interface CheckRules {
  /** Paths (`[].osdid-list`) where real PVE sends null although the schema names a type. */
  nullable?: string[];
  /** Paths real PVE leaves out although the schema does not mark them optional. */
  optional?: string[];
  /** Paths (`(data)` for the whole answer) where real PVE sends another JSON type than the schema names. */
  types?: Record<string, string>;
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      // PVE's JSON booleans are 0/1 integers (JSON::true only where a handler builds one).
      return v === 0 || v === 1 || typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return !!v && typeof v === 'object' && !Array.isArray(v);
    case 'null':
      return v === null;
    default:
      return true; // 'any' and unknown names
  }
}

export function checkReturns(schema: ReturnSchema, value: unknown, rules: CheckRules = {}, path = ''): string[] {
  const out: string[] = [];
  if (value === null && rules.nullable?.includes(path)) return out;
  const override = rules.types?.[path || '(data)'];
  const types = override ? [override] : schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 0 && !types.some((t) => typeOk(t, value))) {
    out.push(`${path || '(data)'}: expected ${types.join('|')}, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value} ${JSON.stringify(value)?.slice(0, 60)}`);
    return out;
  }
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (Array.isArray(value) && schema.items) {
    value.forEach((v) => out.push(...checkReturns(schema.items!, v, rules, `${path}[]`)));
  } else if (value && typeof value === 'object' && schema.properties) {
    const obj = value as Record<string, unknown>;
    for (const [k, sub] of Object.entries(schema.properties)) {
      const p = `${path}.${k}`;
      if (obj[k] === undefined) {
        if (!sub.optional && !rules.optional?.includes(p)) out.push(`${p}: required member missing`);
        continue;
      }
      out.push(...checkReturns(sub, obj[k], rules, p));
    }
  }
  // Keep one message per path (an array of 100 entries repeats the same problem).
  return [...new Set(out)];
}
