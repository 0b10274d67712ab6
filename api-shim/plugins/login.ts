// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PVE login mode (`serve --login`): users sign in with their own PVE user, realm and password (and
 * a second factor when PVE asks for one) through `POST /dp/login`; the shim keeps the PVE ticket
 * and gives the browser only a random session id in a cookie that is `HttpOnly` (no script reads
 * it), `SameSite=Strict` (no other site's page sends it) and `Secure` when the shim serves TLS.
 * Every upstream call then runs as that user, so PVE's ACLs decide what each person sees and
 * changes. Registered on the root instance (not encapsulated): its hook attaches the session to
 * every request and refuses the API without one.
 *
 * NOTE: on plain-http loopback (`serve --login` on 127.0.0.1 without --tls-cert) the cookie cannot
 * be `Secure` (a browser would drop it on http); nothing leaves the machine, and listening anywhere
 * else needs TLS (api-shim/main.ts).
 */
import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PveApiError, PveAuthError } from '../../src/api/errors.js';
import { addressKey } from '../connection-limit.js';
import { DP_BAD_REQUEST, DP_CSRF, DP_LOGIN_FAILED, DP_LOGIN_REQUIRED, DP_RATE_LIMITED, DP_UPSTREAM_UNREACHABLE, sendShimError } from '../errors.js';
import type { ResolvedShimOptions } from '../options.js';
import { TYPED_FACTORS, loginSecondFactor, loginWithPassword } from '../pve-login.js';
import { attachSession, sessionOf } from '../session-of.js';
import { type LoginSession, SessionStore } from '../sessions.js';
import { createClientWith } from '../upstream-client.js';
import { crossOriginProblem, sameSecret } from '../write-guard.js';

/** The `/dp/login` answer. */
export type LoginAnswer =
  | { status: 'ok'; user: string; csrfToken: string }
  | { status: 'second-factor'; challenge: string; types: string[] };

/** `__Host-` binds the cookie to this exact origin (no Domain, Path=/), which needs `Secure`. */
export function sessionCookieName(tls: boolean): string {
  return tls ? '__Host-dp_session' : 'dp_session';
}

const text = (v: unknown, max = 256): string | null => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : null);

/** The shim's routes answered without a session: what the sign-in page needs. */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/dp/config', '/dp/login', '/dp/logout']);

/**
 * Whether the route `pattern` (as registered, so every spelling of a path that reaches it, `/%64p/jobs`
 * included) needs a signed-in user: the proxied API and every `/dp/` route but OPEN_ROUTES. The
 * job routes' own rule (a user reaches their own jobs) gave an anonymous client every job and plan,
 * with each VM's disk configuration. The static panel and 404s need none.
 */
export function needsSession(pattern: string | undefined): boolean {
  if (pattern === undefined) return false;
  return pattern.startsWith('/api2/') || (pattern.startsWith('/dp/') && !OPEN_ROUTES.has(pattern));
}

/** Registers the session hook and `/dp/login`, `/dp/logout` on the root instance. */
export async function registerLogin(app: FastifyInstance, opts: ResolvedShimOptions): Promise<SessionStore> {
  const store = new SessionStore(createClientWith(opts, { kind: 'same-origin' }), opts.now, opts.ticketRenewAfterMs);
  const cookieName = sessionCookieName(opts.tls !== null);
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: opts.tls !== null };
  await app.register(fastifyCookie);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const session = store.get(request.cookies[cookieName]);
    if (session) {
      try {
        await session.fresh();
        attachSession(request, session);
      } catch {
        // PVE refused the renewal (expired, user disabled): the session ended.
        void reply.clearCookie(cookieName, cookieOptions);
      }
    }
    if (!sessionOf(request) && needsSession(request.routeOptions.url)) {
      return sendShimError(reply, DP_LOGIN_REQUIRED, 'sign in with your PVE user first (POST /dp/login); this shim runs in PVE login mode; nothing was sent to PVE');
    }
    return undefined;
  });

  const started = (request: FastifyRequest, reply: FastifyReply, session: LoginSession): LoginAnswer => {
    // A new session id at every sign-in, and the one the browser came with (another user's, or
    // one planted in it) ends: an id is never carried across a sign-in.
    const previous = request.cookies[cookieName];
    if (previous) store.end(previous);
    void reply.setCookie(cookieName, session.id, cookieOptions);
    return { status: 'ok', user: session.userid, csrfToken: session.csrfToken };
  };

  const failed = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof PveAuthError) return sendShimError(reply, DP_LOGIN_FAILED, 'login failed: wrong user, realm, password or code');
    const detail = err instanceof PveApiError ? err.message : String(err);
    return sendShimError(reply, DP_UPSTREAM_UNREACHABLE, `login: PVE at ${opts.upstream.host} did not answer: ${detail}`);
  };

  await app.register(async (scope) => {
    await scope.register(rateLimit, {
      // Per client address (PVE adds its own 3 s delay per failure).
      max: opts.limits.loginsPerMinute,
      timeWindow: 60_000,
      // An IPv6 host picks any address of its /64: one key per /64, or each guess came from a new address.
      keyGenerator: (request) => addressKey(request.ip),
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error(`too many login attempts from this address; retry in ${Math.ceil(context.ttl / 1000)} s`), {
          statusCode: DP_RATE_LIMITED.status,
          code: DP_RATE_LIMITED.code,
        }),
    });

    scope.post('/dp/login', { bodyLimit: 4096 }, async (request, reply) => {
      const cross = crossOriginProblem(request.headers);
      if (cross) return sendShimError(reply, DP_CSRF, `login refused: ${cross}`);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const challengeId = text(body['challenge']);
      if (challengeId) {
        const challenge = store.challenge(challengeId);
        const code = text(body['code'], 64);
        const type = text(body['type'], 32) ?? challenge?.types.find((t) => (TYPED_FACTORS as readonly string[]).includes(t)) ?? 'totp';
        if (!challenge) return sendShimError(reply, DP_LOGIN_REQUIRED, 'the second-factor step expired (2 min); sign in again');
        if (!code) return sendShimError(reply, DP_BAD_REQUEST, '/dp/login: "code" is required with "challenge"');
        try {
          const ticket = await loginSecondFactor(store.anon, challenge, type, code);
          store.dropChallenge(challengeId);
          return started(request, reply, store.create(ticket));
        } catch (err) {
          return failed(reply, err);
        }
      }
      const username = text(body['username'], 64);
      const realm = text(body['realm'], 32) ?? 'pam';
      const password = text(body['password'], 1024);
      if (!username || !password) return sendShimError(reply, DP_BAD_REQUEST, '/dp/login: expected {"username": "...", "realm": "pve", "password": "..."}');
      try {
        const step = await loginWithPassword(store.anon, username, realm, password);
        if ('challengeTicket' in step) {
          const answer: LoginAnswer = { status: 'second-factor', challenge: store.holdChallenge(step), types: step.types };
          return answer;
        }
        return started(request, reply, store.create(step));
      } catch (err) {
        return failed(reply, err);
      }
    });
  });

  // Works in read-only mode too: signing out writes nothing to PVE.
  app.post('/dp/logout', async (request, reply) => {
    const session = store.get(request.cookies[cookieName]);
    if (!session) return sendShimError(reply, DP_LOGIN_REQUIRED, 'not signed in');
    const cross = crossOriginProblem(request.headers);
    if (cross || !sameSecret(request.headers['csrfpreventiontoken'], session.csrfToken)) {
      return sendShimError(reply, DP_CSRF, 'logout needs the session\'s CSRFPreventionToken (from /dp/config)');
    }
    store.end(session.id);
    void reply.clearCookie(cookieName, cookieOptions);
    return { status: 'signed-out' };
  });
  return store;
}
