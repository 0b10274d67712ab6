// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The API calls the shim forwards: exactly the ones pve-dataplane makes (src/api/endpoints,
 * src/api/evidence.ts, src/migration), nothing else. A browser that holds the shim's origin can
 * therefore not reach `/access/users`, `/nodes/X/execute`, storage content or any other part of
 * PVE the token could touch.
 *
 * NOTE: when src/ starts calling a new endpoint, add it here; test/shim/allow-list.test.ts
 * checks every endpoint the panel's audit uses against this list.
 */

export type AllowedMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Rule {
  method: AllowedMethod;
  /** Path below `/api2/json`, one regex per segment joined with `/`. */
  pattern: RegExp;
}

// PVE's node name is a DNS label; VMIDs are 100..999999999; a UPID is `UPID:node:...:` (its `/`
// free form is guaranteed by the path check that runs first).
const NODE = '[A-Za-z0-9][A-Za-z0-9.-]*';
const VMID = '[1-9][0-9]{2,8}';
const UPID = 'UPID:[^/]+';

function rule(method: AllowedMethod, path: string): Rule {
  const body = path.replace(/\{node\}/g, NODE).replace(/\{vmid\}/g, VMID).replace(/\{upid\}/g, UPID);
  return { method, pattern: new RegExp(`^${body}$`) };
}

/** Read calls of the audit, the risk evidence and the planner. */
const READS: readonly Rule[] = [
  '/version',
  '/cluster/resources',
  '/cluster/status',
  '/cluster/backup',
  '/cluster/ha/resources',
  '/access/permissions',
  '/storage',
  '/nodes',
  '/nodes/{node}/status',
  '/nodes/{node}/time',

  '/nodes/{node}/syslog',

  '/nodes/{node}/rrddata',
  '/nodes/{node}/storage',
  '/nodes/{node}/vzdump/defaults',
  '/nodes/{node}/apt/versions',
  '/nodes/{node}/capabilities/qemu/machines',
  '/nodes/{node}/tasks',
  '/nodes/{node}/tasks/{upid}/status',
  '/nodes/{node}/tasks/{upid}/log',
  '/nodes/{node}/qemu',
  '/nodes/{node}/qemu/{vmid}/pending',
  '/nodes/{node}/qemu/{vmid}/config',
  '/nodes/{node}/qemu/{vmid}/status/current',
  '/nodes/{node}/qemu/{vmid}/rrddata',
  '/nodes/{node}/qemu/{vmid}/snapshot',
  '/nodes/{node}/qemu/{vmid}/agent/exec-status',
].map((p) => rule('GET', p));

/** Writes of the migration engine (apply / rollback): config update, power actions, guest check. */
const WRITES: readonly Rule[] = [
  rule('POST', '/nodes/{node}/qemu/{vmid}/config'),
  rule('POST', '/nodes/{node}/qemu/{vmid}/status/(start|stop|shutdown|reboot)'),
  rule('POST', '/nodes/{node}/qemu/{vmid}/agent/exec'),
];

const RULES: readonly Rule[] = [...READS, ...WRITES];

/**
 * True when `method path` is a call this tool makes. `path` is below `/api2/json`, decoded,
 * without query string (see `checkApiPath`). HEAD is allowed wherever GET is.
 */
export function isAllowedCall(method: string, path: string): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  return RULES.some((r) => r.method === m && r.pattern.test(path));
}
