// SPDX-License-Identifier: AGPL-3.0-or-later
/** The signed-in user of a request in login mode, attached by the login plugin's hook. */
import type { FastifyRequest } from 'fastify';

/** What a request may know about its session (never the PVE ticket itself). */
export interface RequestSession {
  /** `alice@pve`. */
  userid: string;
  /** The token this session's writes to the shim must carry. */
  csrfToken: string;
  /** The PVE credentials to send upstream on this user's behalf (fresh: renewed when due). */
  upstreamHeaders(): Promise<Record<string, string>>;
}

const sessions = new WeakMap<FastifyRequest['raw'], RequestSession>();

export function attachSession(request: FastifyRequest, session: RequestSession): void {
  sessions.set(request.raw, session);
}

/** The session of `request`, or undefined (token mode, or not signed in). */
export function sessionOf(request: FastifyRequest): RequestSession | undefined {
  return sessions.get(request.raw);
}
