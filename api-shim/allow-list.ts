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
}

// PVE's node name is a DNS label; VMIDs are 100..999999999.
const NODE = '[A-Za-z0-9][A-Za-z0-9.-]*';
const VMID = '[1-9][0-9]{2,8}';

function rule(method: AllowedMethod, path: string): Rule {
  const body = path.replace(/\{node\}/g, NODE).replace(/\{vmid\}/g, VMID);
  return { method, pattern: new RegExp(`^${body}$`) };
}

/** Read calls of the panel's audit. */
const RULES: readonly Rule[] = [
  // collectFleet
  '/access/permissions',
  '/cluster/resources',
  '/nodes',
  '/storage',
  '/nodes/{node}/qemu',
  '/nodes/{node}/qemu/{vmid}/pending',
  '/nodes/{node}/apt/versions',
  '/nodes/{node}/capabilities/qemu/machines',
  // collectRiskEvidence
  '/cluster/backup',
  '/cluster/metrics/export',
  '/nodes/{node}/status',
  '/nodes/{node}/time',
  '/nodes/{node}/syslog',
  '/nodes/{node}/vzdump/defaults',
  '/nodes/{node}/qemu/{vmid}/rrddata',
  '/nodes/{node}/qemu/{vmid}/snapshot',
  '/nodes/{node}/qemu/{vmid}/config',
].map((p) => rule('GET', p));

/** The rules, for the test that checks each one is used. */
export const ALLOWED_READS: readonly RegExp[] = RULES.map((r) => r.pattern);

/**
 * True when `method path` is a call this tool makes. `path` is below `/api2/json`, decoded,
 * without query string (see `checkApiPath`). HEAD is allowed wherever GET is.
 */
export function isAllowedCall(method: string, path: string): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  return RULES.some((r) => r.method === m && r.pattern.test(path));
}
