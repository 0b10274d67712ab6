// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The three ways this tool authenticates against PVE (docs/how-qemu-server-decides.md#api):
 * - API token: `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, no CSRF token needed;
 * - ticket: `POST /access/ticket` -> cookie `PVEAuthCookie` + `CSRFPreventionToken` header on every
 *   non-GET; the ticket lives 2 h and is renewed by posting it as the password;
 * - same-origin: running inside the PVE web UI, the browser already sends the cookie and the page
 *   provides the CSRF token.
 */

export interface TokenAuth {
  kind: 'token';
  /** `USER@REALM!TOKENID=SECRET` (a leading `PVEAPIToken=` is accepted too). */
  token: string;
}

export interface TicketAuth {
  kind: 'ticket';
  /** `root@pam`, or the bare user name together with `realm`. */
  username: string;
  password: string;
  realm?: string;
  /** One-time password for TOTP-protected users (PVE's legacy `otp` parameter). */
  otp?: string;
}

export interface SameOriginAuth {
  kind: 'same-origin';
  /** CSRF token as the PVE UI holds it (`Proxmox.CSRFPreventionToken`); a function is read per request. */
  csrfToken?: string | (() => string | undefined);
}

/**
 * A ticket obtained and renewed elsewhere (the shim's login session for one user): asked for
 * before every request, so a renewal is picked up at once. No password is held.
 */
export interface HeldTicketAuth {
  kind: 'held-ticket';
  current: (signal?: AbortSignal) => Promise<{ ticket: string; csrfToken: string }>;
}

export type PveAuth = TokenAuth | TicketAuth | SameOriginAuth | HeldTicketAuth;

/** A parsed API token. `tokenId` is the effective user id `USER@REALM!TOKENID` (never `root@pam`). */
export interface ApiToken {
  tokenId: string;
  secret: string;
}

// PVE's user id / token id grammar (pve-access-control: userid-re, realm-re, tokenid).
const TOKEN_RE = /^([^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+)[= ](\S+)$/;

/**
 * Parses `USER@REALM!TOKENID=SECRET`.
 * @throws Error naming what is wrong (without echoing the secret)
 */
export function parseApiToken(text: string): ApiToken {
  const trimmed = text.trim().replace(/^PVEAPIToken[= ]/, '');
  const m = TOKEN_RE.exec(trimmed);
  if (!m) {
    const hint = !trimmed.includes('!')
      ? 'the token id part `!TOKENID` is missing'
      : !/[= ]/.test(trimmed.slice(trimmed.indexOf('!')))
        ? 'the `=SECRET` part is missing'
        : 'it does not look like USER@REALM!TOKENID=SECRET';
    throw new Error(`invalid API token: ${hint} (expected USER@REALM!TOKENID=SECRET, e.g. audit@pve!dataplane=xxxxxxxx-...)`);
  }
  return { tokenId: m[1]!, secret: m[2]! };
}

/** The `Authorization` header value for an API token. */
export function tokenHeader(token: ApiToken): string {
  return `PVEAPIToken=${token.tokenId}=${token.secret}`;
}

/** What `POST /access/ticket` returns (PVE keys kept). */
export interface TicketResponse {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
  /** Computed privileges per area; absent while TFA is pending. */
  cap?: Record<string, Record<string, 0 | 1>>;
  clustername?: string;
  /** 1 when a second factor is still required (the ticket is then only partial). */
  NeedTFA?: 0 | 1;
}

/** A ticket in use, with the local time it was obtained (ms since epoch). */
export interface TicketState {
  ticket: string;
  csrfToken: string;
  username: string;
  obtainedAt: number;
}

/** PVE tickets expire after 2 h; renew after 1 h so clock skew and long audits stay safe. */
export const TICKET_RENEW_AFTER_MS = 60 * 60 * 1000;
