// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Coded errors of the shim, one HTTP status each (the reply-from `lib/errors.js` habit). The body
 * has PVE's envelope shape `{data: null, message}` so the panel's `PveClient` turns it into a
 * `PveApiError` with our text; `code` tells a refusal by the shim from one by PVE.
 */
import type { FastifyReply } from 'fastify';

export interface ShimErrorSpec {
  code: string;
  status: number;
}

/** A path outside the allow-list of API calls this tool makes. */
export const DP_PATH_NOT_ALLOWED: ShimErrorSpec = { code: 'DP_PATH_NOT_ALLOWED', status: 403 };
/** A write (any method but GET/HEAD) while the shim runs with `--read-only`. */
export const DP_AUDIT_READ_ONLY: ShimErrorSpec = { code: 'DP_AUDIT_READ_ONLY', status: 403 };
/** A path with `.`/`..` segments, encoded slashes, backslashes, NUL or empty segments. */
export const DP_BAD_PATH: ShimErrorSpec = { code: 'DP_BAD_PATH', status: 400 };
/** A request whose framing could desynchronise the shim and PVE (GET with a body, Transfer-Encoding, Expect, Upgrade). */
export const DP_BAD_FRAMING: ShimErrorSpec = { code: 'DP_BAD_FRAMING', status: 400 };
/** A request target that is not a path (`http://host/...`, `*`) or CONNECT: the shim is no proxy. */
export const DP_NOT_A_PROXY: ShimErrorSpec = { code: 'DP_NOT_A_PROXY', status: 400 };
/** A request line longer than any call the panel makes (a path PVE would only refuse, after the shim sent it). */
export const DP_URI_TOO_LONG: ShimErrorSpec = { code: 'DP_URI_TOO_LONG', status: 414 };
/** More header lines than any browser sends (node:http hides those past its count from the checks). */
export const DP_TOO_MANY_HEADERS: ShimErrorSpec = { code: 'DP_TOO_MANY_HEADERS', status: 431 };
/** A request that is not HTTP/1.0 or HTTP/1.1 (HTTP/0.9 has no headers, `HTTP/2.0` in a request line is not HTTP/2). */
export const DP_HTTP_VERSION: ShimErrorSpec = { code: 'DP_HTTP_VERSION', status: 505 };
/** A write without the shim's CSRF token (a cross-site form or fetch cannot read /dp/config). */
export const DP_CSRF: ShimErrorSpec = { code: 'DP_CSRF', status: 403 };
/** A `Host` header the shim does not answer to (DNS rebinding onto a loopback shim). */
export const DP_HOST_NOT_ALLOWED: ShimErrorSpec = { code: 'DP_HOST_NOT_ALLOWED', status: 403 };
/** A malformed request to one of the shim's own endpoints (`/dp/...`). */
export const DP_BAD_REQUEST: ShimErrorSpec = { code: 'DP_BAD_REQUEST', status: 400 };
/** Another user's job or plan, without the privilege PVE asks for another user's task. */
export const DP_JOB_FORBIDDEN: ShimErrorSpec = { code: 'DP_JOB_FORBIDDEN', status: 403 };
/** No plan or job by that id. */
export const DP_NOT_FOUND: ShimErrorSpec = { code: 'DP_NOT_FOUND', status: 404 };
/** A VM is in another running job (one job per VM at a time), or the job is not in a state for that. */
export const DP_JOB_CONFLICT: ShimErrorSpec = { code: 'DP_JOB_CONFLICT', status: 409 };
/** Login mode: this request needs a signed-in user (no session cookie, or the session ended). */
export const DP_LOGIN_REQUIRED: ShimErrorSpec = { code: 'DP_LOGIN_REQUIRED', status: 401 };
/** Login mode: PVE refused the user name, password or second factor. */
export const DP_LOGIN_FAILED: ShimErrorSpec = { code: 'DP_LOGIN_FAILED', status: 401 };
/** Too many requests from one user (or login attempts from one address); retry later. */
export const DP_RATE_LIMITED: ShimErrorSpec = { code: 'DP_RATE_LIMITED', status: 429 };
/** More client connections open from one address, or in total, than the shim keeps (connection-limit.ts). */
export const DP_TOO_MANY_CONNECTIONS: ShimErrorSpec = { code: 'DP_TOO_MANY_CONNECTIONS', status: 503 };
/** PVE could not be reached (refused, timeout, TLS verification failed). */
export const DP_UPSTREAM_UNREACHABLE: ShimErrorSpec = { code: 'DP_UPSTREAM_UNREACHABLE', status: 502 };

/** The JSON body of a shim error. */
export interface ShimErrorBody {
  data: null;
  message: string;
  code: string;
}

/** The body of `spec` with `message` (also what the batched read records for a VM it could not read). */
export function shimErrorBody(spec: ShimErrorSpec, message: string): ShimErrorBody {
  return { data: null, message, code: spec.code };
}

/** Sends `spec` with `message`; the reason phrase carries the message too, as PVE does. */
export function sendShimError(reply: FastifyReply, spec: ShimErrorSpec, message: string): FastifyReply {
  const body = shimErrorBody(spec, message);
  // A reason phrase must be one line of visible ASCII.
  reply.raw.statusMessage = message.split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return reply.code(spec.status).header('content-type', 'application/json; charset=utf-8').send(body);
}
