// SPDX-License-Identifier: AGPL-3.0-or-later
/** The signed-in user of a request in login mode, attached by the login plugin's hook. */
import type { FastifyRequest } from 'fastify';

/** What a request may use of its session. */
export interface RequestSession {
  /** `alice@pve`. */
  userid: string;
  /** The token this session's writes to the shim must carry. */
  csrfToken: string;
  /** The user's PVE ticket and CSRF token, renewed first when due (for long jobs). */
  fresh(): Promise<{ ticket: string; csrfToken: string }>;
  /** The ticket as of now (the hook renewed it before this request, when due). */
  readonly ticket: string;
}

const sessions = new WeakMap<FastifyRequest['raw'], RequestSession>();

export function attachSession(request: FastifyRequest, session: RequestSession): void {
  sessions.set(request.raw, session);
}

/** The session of `request`, or undefined (token mode, or not signed in). */
export function sessionOf(request: FastifyRequest): RequestSession | undefined {
  return sessions.get(request.raw);
}
