// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Authentication as pve-http-server / pve-access-control do it: API tokens in the Authorization
 * header, tickets from `POST /access/ticket` in the `PVEAuthCookie` cookie (or the same in
 * Authorization), a CSRF token on every non-GET made with a ticket, 2 h ticket lifetime.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Principal, SimToken, SimUser } from './acl.js';
import { AuthError } from './errors.js';

/** Ticket lifetime (pve-access-control `$ticket_lifetime`). */
export const TICKET_LIFETIME_SEC = 2 * 3600;
/** Tickets from up to 5 min in the future are accepted (clock skew between nodes). */
const MIN_TICKET_AGE_SEC = -300;

export interface AuthStore {
  users: SimUser[];
  tokens: SimToken[];
  /** Key of the HMAC standing in for PVE's RSA ticket signature. */
  secret: string;
}

function sign(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('base64');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** `PVE:<userid>:<hex time>::<signature>` like PVE's tickets. */
export function createTicket(store: AuthStore, userid: string, nowSec: number): string {
  const plain = `PVE:${userid}:${hex8(nowSec)}`;
  return `${plain}::${sign(store.secret, plain)}`;
}

/** `<hex time>:<signature>` bound to the user, like PVE's CSRFPreventionToken. */
export function createCsrfToken(store: AuthStore, userid: string, nowSec: number): string {
  const ts = hex8(nowSec);
  return `${ts}:${sign(store.secret, `${ts}:${userid}`).replace(/=+$/, '')}`;
}

function ageOk(tsHex: string, nowSec: number): boolean {
  const age = nowSec - parseInt(tsHex, 16);
  return age >= MIN_TICKET_AGE_SEC && age <= TICKET_LIFETIME_SEC;
}

/** The user a ticket belongs to, or null when it is forged or expired. */
export function verifyTicket(store: AuthStore, ticket: string, nowSec: number): SimUser | null {
  const m = /^(PVE:([^:\s]+):([0-9A-F]{8}))::(.+)$/.exec(ticket);
  if (!m || !safeEqual(sign(store.secret, m[1]!), m[4]!) || !ageOk(m[3]!, nowSec)) return null;
  return store.users.find((u) => u.userid === m[2]) ?? null;
}

function verifyCsrf(store: AuthStore, token: string, userid: string, nowSec: number): boolean {
  const m = /^([0-9A-F]{8}):(\S+)$/.exec(token);
  if (!m || !ageOk(m[1]!, nowSec)) return false;
  return safeEqual(sign(store.secret, `${m[1]}:${userid}`).replace(/=+$/, ''), m[2]!);
}

function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/**
 * Authenticates one request. Throws AuthError (401) the way PVE answers: a bad token gets an
 * empty body; no credentials `No ticket`; a write with a ticket but no valid CSRF token
 * `Permission denied - invalid csrf token`.
 */
export function authenticate(
  store: AuthStore,
  headers: { authorization?: string; cookie?: string; csrf?: string },
  method: string,
  nowSec: number,
): Principal {
  const auth = headers.authorization?.trim();
  const tokenMatch = auth ? /^PVEAPIToken[= ]([^!\s]+@[^!\s]+)!([^=\s]+)[= ](\S+)$/.exec(auth) : null;
  if (tokenMatch) {
    const tokenid = `${tokenMatch[1]}!${tokenMatch[2]}`;
    const token = store.tokens.find((t) => t.tokenid === tokenid);
    const user = store.users.find((u) => u.userid === tokenMatch[1]);
    if (!token || !user || !safeEqual(token.secret, tokenMatch[3]!)) throw new AuthError('Authentication failed!', true);
    return { id: tokenid, user, token, viaTicket: false };
  }
  if (auth?.startsWith('PVEAPIToken')) throw new AuthError('Authentication failed!', true);
  const ticket = (auth?.startsWith('PVEAuthCookie=') ? auth.slice('PVEAuthCookie='.length) : undefined) ?? cookieValue(headers.cookie, 'PVEAuthCookie');
  if (!ticket) throw new AuthError('No ticket', false);
  const user = verifyTicket(store, ticket, nowSec);
  if (!user) throw new AuthError('permission denied - invalid PVE ticket', false);
  if (method !== 'GET' && method !== 'HEAD') {
    if (!headers.csrf || !verifyCsrf(store, headers.csrf, user.userid, nowSec)) {
      throw new AuthError('Permission denied - invalid csrf token', false);
    }
  }
  return { id: user.userid, user, viaTicket: true };
}

/**
 * RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits) as authenticator apps and PVE's `totp` factor
 * compute it.
 */
export function totpCode(secretHex: string, nowSec: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowSec / 30)));
  const mac = createHmac('sha1', Buffer.from(secretHex, 'hex')).update(counter).digest();
  const off = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** What the TOTP challenge of a partial ticket offers (PVE's `{"totp":true}`, URI-encoded). */
const TFA_CHALLENGE = encodeURIComponent('{"totp":true}').replace(/%7B|%7D|%22/gi, (c) => decodeURIComponent(c));

/** The partial ticket of a first factor: `PVE:!tfa!<challenge>:<hex time>::<signature bound to the user>`. */
function createTfaTicket(store: AuthStore, userid: string, nowSec: number): string {
  const plain = `PVE:!tfa!${TFA_CHALLENGE}:${hex8(nowSec)}`;
  return `${plain}::${sign(store.secret, `${plain}\0${userid}`)}`;
}

/** TFA challenges live 2 min ahead of the second factor, like PVE's. */
const TFA_TICKET_LIFETIME_SEC = 120;

/** The result of a login step: a full ticket, or the partial one awaiting the second factor. */
export type LoginResult = { user: SimUser; needTfa: false } | { user: SimUser; needTfa: true; tfaTicket: string };

/** TOTP codes already used (PVE rejects a reused value), per user. */
const usedCodes = new WeakMap<SimUser, Set<string>>();

/**
 * `POST /access/ticket`: password login (a TOTP user gets `NeedTFA` and a partial ticket), the
 * second factor (`tfa-challenge` + `password=totp:<code>`), or renewal with a still-valid ticket
 * as password. Throws the 401 `authentication failure`.
 */
export function login(
  store: AuthStore,
  username: string,
  password: string,
  realm: string | undefined,
  nowSec: number,
  tfaChallenge?: string,
): LoginResult {
  const userid = realm && !username.includes('@') ? `${username}@${realm}` : username;
  const user = store.users.find((u) => u.userid === userid);
  if (user && tfaChallenge !== undefined) {
    const m = /^(PVE:!tfa!([^:]*):([0-9A-F]{8}))::(.+)$/.exec(tfaChallenge);
    const code = /^totp:(\d{6})$/.exec(password)?.[1];
    const fresh = m && nowSec - parseInt(m[3]!, 16) <= TFA_TICKET_LIFETIME_SEC;
    if (m && fresh && code && user.totpHex && safeEqual(sign(store.secret, `${m[1]}\0${user.userid}`), m[4]!)) {
      const used = usedCodes.get(user) ?? new Set<string>();
      usedCodes.set(user, used);
      // The code of this step or the one before (clock skew), once each.
      const valid = [nowSec, nowSec - 30].some((t) => totpCode(user.totpHex!, t) === code);
      if (valid && !used.has(code)) {
        used.add(code);
        return { user, needTfa: false };
      }
    }
  } else if (user && password.startsWith('PVE:')) {
    const owner = verifyTicket(store, password, nowSec);
    if (owner && owner.userid === user.userid) return { user, needTfa: false };
  } else if (user?.password !== undefined && safeEqual(user.password, password)) {
    return user.totpHex ? { user, needTfa: true, tfaTicket: createTfaTicket(store, user.userid, nowSec) } : { user, needTfa: false };
  }
  throw new AuthError('authentication failure', false);
}
