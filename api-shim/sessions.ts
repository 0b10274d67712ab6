// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Login-mode sessions, in memory: the browser holds only a random id (an HttpOnly cookie); the
 * user's PVE ticket and PVE CSRF token stay here. A ticket is renewed on the first use after
 * `renewAfterMs` (before PVE's 2 h expiry); a session whose ticket expired, or whose renewal PVE
 * refused, is gone, and the user signs in again. Restarting the shim signs everybody out.
 */
import { randomBytes } from 'node:crypto';
import type { PveClient } from '../src/api/client.js';
import { TICKET_LIFETIME_MS } from './options.js';
import { type PveTfaChallenge, type PveTicket, renewTicket } from './pve-login.js';
import type { RequestSession } from './session-of.js';

/** A pending second factor lives as long as PVE's challenge (2 min). */
const CHALLENGE_LIFETIME_MS = 120_000;

/** One signed-in user. */
export class LoginSession implements RequestSession {
  readonly id = randomBytes(32).toString('base64url');
  /** The token the browser sends on the shim's own writes (readable from /dp/config, same origin only). */
  readonly csrfToken = randomBytes(24).toString('base64url');
  private current: PveTicket;
  private issuedAtMs: number;
  private renewing: Promise<PveTicket> | null = null;

  constructor(
    first: PveTicket,
    private readonly store: SessionStore,
  ) {
    this.current = first;
    this.issuedAtMs = store.now();
  }

  get userid(): string {
    return this.current.userid;
  }

  get ticket(): string {
    return this.current.ticket;
  }

  /** Age of the ticket in ms. */
  ticketAgeMs(): number {
    return this.store.now() - this.issuedAtMs;
  }

  /** The ticket, renewed first when due; rejects (and ends the session) when PVE refuses. */
  async fresh(): Promise<{ ticket: string; csrfToken: string }> {
    if (this.ticketAgeMs() >= this.store.renewAfterMs) {
      this.renewing ??= renewTicket(this.store.anon, this.current.userid, this.current.ticket)
        .then((t) => {
          this.current = t;
          this.issuedAtMs = this.store.now();
          this.store.renewals++;
          return t;
        })
        .catch((err: unknown) => {
          this.store.end(this.id);
          throw err;
        })
        .finally(() => {
          this.renewing = null;
        });
      await this.renewing;
    }
    return { ticket: this.current.ticket, csrfToken: this.current.csrfToken };
  }
}

export class SessionStore {
  private readonly sessions = new Map<string, LoginSession>();
  private readonly challenges = new Map<string, { challenge: PveTfaChallenge; atMs: number }>();
  /** Renewals done (for the log and the tests). */
  renewals = 0;

  constructor(
    readonly anon: PveClient,
    readonly now: () => number,
    readonly renewAfterMs: number,
  ) {}

  create(ticket: PveTicket): LoginSession {
    // Sessions whose ticket expired unused are dropped here, so the map holds live ones only.
    for (const [id, old] of this.sessions) if (old.ticketAgeMs() >= TICKET_LIFETIME_MS) this.sessions.delete(id);
    const s = new LoginSession(ticket, this);
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id; an expired one is dropped. */
  get(id: string | undefined): LoginSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (s && s.ticketAgeMs() >= TICKET_LIFETIME_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** Keeps a partial login; returns the id the browser answers with. */
  holdChallenge(challenge: PveTfaChallenge): string {
    this.sweepChallenges();
    const id = randomBytes(24).toString('base64url');
    this.challenges.set(id, { challenge, atMs: this.now() });
    return id;
  }

  /** The partial login with this id (a failed code keeps it for another try, as PVE does). */
  challenge(id: string): PveTfaChallenge | undefined {
    this.sweepChallenges();
    return this.challenges.get(id)?.challenge;
  }

  dropChallenge(id: string): void {
    this.challenges.delete(id);
  }

  private sweepChallenges(): void {
    for (const [id, c] of this.challenges) if (this.now() - c.atMs > CHALLENGE_LIFETIME_MS) this.challenges.delete(id);
  }
}
