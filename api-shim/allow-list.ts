// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The API calls the shim forwards: exactly the GETs of the audit the panel runs in the browser
 * (`loadFleetAudit`: the fleet collection, the risk evidence, the caller's permissions), nothing
 * else. No write is ever forwarded: changes run as the shim's own jobs, from a saved plan, with
 * the engine in this process. A page that holds the shim's origin can therefore neither reach
 * `/access/users`, `/nodes/X/execute`, storage content or a guest agent, nor change a VM.
 *
 * NOTE: when the audit starts calling a new endpoint, add it here; test/shim/allow-list.test.ts
 * runs the panel's load through the shim and fails both on a refused call and on a rule no call
 * used.
 */

export type AllowedMethod = 'GET';

interface Rule {
  method: AllowedMethod;
  /** Path below `/api2/json`, one regex per segment joined with `/`. */
  pattern: RegExp;
  /** The query parameters this tool sends on that call; any other name is refused. */
  query: ReadonlySet<string>;
}

// PVE's node name is a DNS label; VMIDs are 100..999999999.
const NODE = '[A-Za-z0-9][A-Za-z0-9.-]*';
const VMID = '[1-9][0-9]{2,8}';

/** `'/path?a&b'`: the path template and the names of the query parameters sent with it. */
function rule(method: AllowedMethod, spec: string): Rule {
  const [path, names = ''] = spec.split('?') as [string, string?];
  const body = path.replace(/\{node\}/g, NODE).replace(/\{vmid\}/g, VMID);
  return { method, pattern: new RegExp(`^${body}$`), query: new Set(names ? names.split('&') : []) };
}

/** Read calls of the panel's audit, with the query parameters each is sent with. */
const RULES: readonly Rule[] = [
  // collectFleet
  '/access/permissions',
  '/cluster/resources?type',
  '/nodes',
  '/storage',
  '/nodes/{node}/qemu?full',
  '/nodes/{node}/qemu/{vmid}/pending',
  '/nodes/{node}/apt/versions',
  '/nodes/{node}/capabilities/qemu/machines',
  // collectRiskEvidence
  '/cluster/backup',
  '/cluster/metrics/export?history&start-time',
  '/nodes/{node}/status',
  '/nodes/{node}/time',
  '/nodes/{node}/syslog?since&limit',
  '/nodes/{node}/vzdump/defaults?storage',
  '/nodes/{node}/qemu/{vmid}/rrddata?timeframe&cf',
  '/nodes/{node}/qemu/{vmid}/snapshot',
  '/nodes/{node}/qemu/{vmid}/config?snapshot',
].map((p) => rule('GET', p));

/** The rules, for the test that checks each one is used. */
export const ALLOWED_READS: readonly RegExp[] = RULES.map((r) => r.pattern);

/** Each rule's query parameter names, by the rule's pattern (for the test that checks each is used). */
export const ALLOWED_QUERIES: ReadonlyMap<RegExp, ReadonlySet<string>> = new Map(RULES.map((r) => [r.pattern, r.query]));

/** An allowed call, as `allowedCall` found it (pass it on to `queryRefusal`). */
export type AllowedCall = Rule;

/**
 * The rule of `method path` when it is a call this tool makes, else undefined. `path` is below
 * `/api2/json`, decoded, without query string (see `checkApiPath`). HEAD is allowed wherever GET is.
 */
export function allowedCall(method: string, path: string): AllowedCall | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return RULES.find((r) => r.method === m && r.pattern.test(path));
}

/** True when `method path` is a call this tool makes (see `allowedCall`). */
export function isAllowedCall(method: string, path: string): boolean {
  return allowedCall(method, path) !== undefined;
}

/** Why a query string is refused: `status` 403 for a parameter this tool never sends, 400 for a malformed one. */
export interface QueryRefusal {
  status: 400 | 403;
  reason: string;
}

/**
 * Checks the raw query string (`a=1&b=2`, without `?`) of an allowed call (`allowedCall`): only the parameter
 * names this tool sends on it, each once, no control characters. Returns null when it may go.
 *
 * NOTE: pveproxy reads the query with URI's `query_form`, which splits on `;` as well as `&`:
 * `full=1;foo=bar` would reach PVE as two parameters while a `&`-only parser sees one. The
 * client never sends a `;` (it encodes values), so a raw `;` is refused rather than parsed twice.
 */
export function queryRefusal(rule: AllowedCall, path: string, rawQuery: string): QueryRefusal | null {
  if (rawQuery === '') return null;
  if (rawQuery.includes(';')) return { status: 400, reason: "';' in the query string (PVE would split the parameter there)" };
  const seen = new Set<string>();
  for (const part of rawQuery.split('&')) {
    const decoded = decodeQueryPart(part);
    if (!decoded) return { status: 400, reason: `malformed percent-encoding in the query parameter '${part.slice(0, 60)}'` };
    const { name, value } = decoded;
    if (!rule.query.has(name)) {
      return { status: 403, reason: `query parameter '${name.slice(0, 60)}' of GET ${path} is not one pve-dataplane sends` };
    }
    if (seen.has(name)) return { status: 400, reason: `query parameter '${name}' given twice` };
    seen.add(name);
    if (/[\x00-\x1f\x7f]/.test(value)) return { status: 400, reason: `control character in the query parameter '${name}'` };
  }
  return null;
}

/**
 * One `name=value` part of a raw query string, decoded as a form is (`+` is a space); null when
 * its percent-encoding is malformed. The allow-list's query check and the batched read's
 * (plugins/pending-batch.ts) read parameters the same way.
 */
export function decodeQueryPart(part: string): { name: string; value: string } | null {
  const eq = part.indexOf('=');
  try {
    return {
      name: decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ')),
      value: eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return null;
  }
}
