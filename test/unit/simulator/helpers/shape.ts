// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shape comparison of JSON answers: same field names, same JSON types, same envelope. Values are
 * not compared. Paths read `data[].ha.managed` (`[]` = any array element); rules may use `*` for
 * one key.
 */

export interface ShapeRules {
  /** Paths that may be missing in the actual answer (optional fields such as `tags`). */
  optional?: string[];
  /** Paths that may only exist in the actual answer (fields newer PVE versions add). */
  extra?: string[];
  /** Objects whose keys are data (`blockstat` drive names, `cap` areas): only value shapes count. */
  maps?: string[];
  /** Arrays of mixed entries, compared per value of this member (`/cluster/resources` by `type`). */
  discriminators?: Record<string, string>;
  /** Documented type differences between the fixture's PVE version and the simulated one. */
  types?: Record<string, string>;
}

type JsonType = 'null' | 'array' | 'object' | 'number' | 'string' | 'boolean';

function typeOf(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}

function matches(pattern: string, path: string): boolean {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\\\*/g, '[^.\\[]+')}$`).test(path);
}
const any = (patterns: string[] | undefined, path: string) => (patterns ?? []).some((p) => matches(p, path));

/** Merges sample objects: keys not present in every sample become optional. */
function merge(samples: Record<string, unknown>[]): { template: Record<string, unknown>; sometimes: Set<string> } {
  const template: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  for (const s of samples) {
    for (const [k, v] of Object.entries(s)) {
      counts.set(k, (counts.get(k) ?? 0) + 1);
      if (!(k in template) || template[k] === null) template[k] = v;
    }
  }
  return { template, sometimes: new Set([...counts].filter(([, n]) => n < samples.length).map(([k]) => k)) };
}

/** Lists every difference between the fixture's shape and the actual answer's shape. */
export function diffShapes(expected: unknown, actual: unknown, rules: ShapeRules = {}, path = '', sometimes = new Set<string>()): string[] {
  const out: string[] = [];
  const want = rules.types?.[path] ?? typeOf(expected);
  const got = typeOf(actual);
  if (want !== got) return [`${path || '(root)'}: expected ${want}, got ${got}`];
  if (got === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if (any(rules.maps, path)) {
      const values = Object.values(e);
      if (values.length === 0) return out;
      const merged = values.every((v) => typeOf(v) === 'object') ? merge(values as Record<string, unknown>[]) : null;
      for (const [k, v] of Object.entries(a)) {
        out.push(...diffShapes(merged ? merged.template : values[0], v, rules, `${path}.${k}`, merged?.sometimes));
      }
      return out;
    }
    for (const k of Object.keys(e)) {
      const p = `${path}.${k}`.replace(/^\./, '');
      if (!(k in a)) {
        if (!sometimes.has(k) && !any(rules.optional, p)) out.push(`${p}: missing`);
        continue;
      }
      out.push(...diffShapes(e[k], a[k], rules, p));
    }
    for (const k of Object.keys(a)) {
      const p = `${path}.${k}`.replace(/^\./, '');
      if (!(k in e) && !any(rules.extra, p)) out.push(`${p}: not in the real answer`);
    }
    return out;
  }
  if (got === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length === 0 || a.length === 0) return out;
    const p = `${path}[]`;
    const disc = rules.discriminators?.[path];
    const groups = new Map<string, unknown[]>();
    for (const x of e) {
      const key = disc && x && typeof x === 'object' ? String((x as Record<string, unknown>)[disc]) : '';
      groups.set(key, [...(groups.get(key) ?? []), x]);
    }
    for (const x of a) {
      const key = disc && x && typeof x === 'object' ? String((x as Record<string, unknown>)[disc]) : '';
      const group = groups.get(key);
      if (!group) {
        if (!any(rules.extra, `${p}[${disc}=${key}]`)) out.push(`${p}: entry with ${disc}=${key} not in the real answer`);
        continue;
      }
      if (group.every((g) => typeOf(g) === 'object')) {
        const m = merge(group as Record<string, unknown>[]);
        out.push(...diffShapes(m.template, x, rules, p, m.sometimes));
      } else {
        out.push(...diffShapes(group[0], x, rules, p));
      }
    }
    return [...new Set(out)];
  }
  return out;
}
