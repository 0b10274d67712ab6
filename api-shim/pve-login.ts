// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The user's side of PVE's `POST /access/ticket` (pve-access-control API2/AccessControl.pm
 * `create_ticket`): a password gives a ticket, or for a user with a second factor a partial
 * ticket (`PVE:!tfa!<challenge>...`, `NeedTFA: 1`) that is completed by posting it back as
 * `tfa-challenge` with `password=<type>:<answer>` (`totp:123456`); a still-valid ticket posted as
 * the password gives a fresh one (renewal). The shim asks for no credential of its own here.
 */
import type { TicketResponse } from '../src/api/auth.js';
import type { PveClient } from '../src/api/client.js';

/** A complete login: the ticket and the CSRF token PVE wants with it on writes. */
export interface PveTicket {
  userid: string;
  ticket: string;
  csrfToken: string;
}

/** A first factor that needs a second: the partial ticket and the factor types PVE offers. */
export interface PveTfaChallenge {
  userid: string;
  challengeTicket: string;
  /** `totp`, `recovery`, `webauthn`, `yubico` ... as PVE's challenge lists them. */
  types: string[];
}

/** Factor types PVE's challenge may offer that a typed code answers (webauthn needs the browser's own API). */
export const TYPED_FACTORS = ['totp', 'yubico', 'recovery'] as const;

function challengeTypes(ticket: string): string[] {
  // `PVE:!tfa!{"totp"%3Atrue,"recovery":[0,1]}:HEX::sig`: the JSON between `!tfa!` and the time.
  const m = /^PVE:!tfa!(.*):[0-9A-F]{8}::/.exec(ticket);
  if (!m) return [];
  try {
    const challenge = JSON.parse(decodeURIComponent(m[1]!)) as Record<string, unknown>;
    return Object.keys(challenge).filter((k) => challenge[k] !== false && challenge[k] !== null);
  } catch {
    return [];
  }
}

function complete(data: TicketResponse): PveTicket {
  return { userid: data.username, ticket: data.ticket, csrfToken: data.CSRFPreventionToken };
}

/**
 * Password step.
 * @throws PveAuthError (401 `authentication failure`) on a wrong user or password
 */
export async function loginWithPassword(anon: PveClient, username: string, realm: string, password: string): Promise<PveTicket | PveTfaChallenge> {
  const data = await anon.post<TicketResponse>('/access/ticket', { username, realm, password, 'new-format': 1 });
  if (data.NeedTFA) return { userid: data.username, challengeTicket: data.ticket, types: challengeTypes(data.ticket) };
  return complete(data);
}

/**
 * Second factor step.
 * @throws PveAuthError on a wrong, reused or expired code
 */
export async function loginSecondFactor(anon: PveClient, challenge: PveTfaChallenge, type: string, answer: string): Promise<PveTicket> {
  const data = await anon.post<TicketResponse>('/access/ticket', {
    username: challenge.userid,
    'tfa-challenge': challenge.challengeTicket,
    password: `${type}:${answer}`,
    'new-format': 1,
  });
  return complete(data);
}

/**
 * Renewal: the ticket itself as the password.
 * @throws PveAuthError when the ticket expired or the user lost the right to log in
 */
export async function renewTicket(anon: PveClient, userid: string, ticket: string): Promise<PveTicket> {
  return complete(await anon.post<TicketResponse>('/access/ticket', { username: userid, password: ticket, 'new-format': 1 }));
}
