// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Fault injection for client tests: extra latency, 5xx answers, connection resets and requests
 * that never get an answer, per path pattern and rate. Decisions come from a seeded random
 * stream per rule, so the same requests in the same order get the same faults.
 */
import { createRng, type Rng } from './rng.js';

export type FaultKind = 'latency' | 'error' | 'reset' | 'timeout';

export interface FaultRule {
  /**
   * Path after `/api2/json` (no query). A string is a glob: `*` = one path segment, `**` = any
   * rest (`/nodes/*\/qemu/*\/pending`, `/cluster/**`); or a RegExp tested against the path.
   */
  path: string | RegExp;
  /** HTTP method; any when absent. */
  method?: string;
  kind: FaultKind;
  /** Probability per matching request, 0..1 (default 1). */
  rate?: number;
  /** Let this many matching requests through first (default 0). */
  skip?: number;
  /** Inject at most this many times (default unlimited). */
  times?: number;
  /** `latency`: added delay in ms. */
  latencyMs?: number;
  /** `error`: HTTP status (default 500). */
  status?: number;
  /** `error`: reason phrase / message (default `simulated fault`). */
  message?: string;
}

export interface FaultPlan {
  rules: FaultRule[];
}

/** What to do with one request. */
export interface FaultDecision {
  latencyMs: number;
  terminal?: { kind: 'error'; status: number; message: string } | { kind: 'reset' } | { kind: 'timeout' };
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const re = esc.replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]+').replace(/\u0000/g, '.*');
  return new RegExp(`^${re}$`);
}

interface RuleState {
  rule: FaultRule;
  re: RegExp;
  rng: Rng;
  seen: number;
  injected: number;
}

/** Applies a fault plan; create a new one to reset the counters. */
export class FaultInjector {
  private readonly rules: RuleState[];

  constructor(plan: FaultPlan | undefined, seed: number) {
    this.rules = (plan?.rules ?? []).map((rule, i) => {
      if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
        throw new Error(`fault rule ${i}: rate must be between 0 and 1, got ${rule.rate}`);
      }
      return {
        rule,
        re: typeof rule.path === 'string' ? globToRegExp(rule.path) : rule.path,
        rng: createRng(seed).fork(`fault:${i}`),
        seen: 0,
        injected: 0,
      };
    });
  }

  /** Decides the faults for one request. */
  decide(method: string, path: string): FaultDecision {
    const out: FaultDecision = { latencyMs: 0 };
    for (const s of this.rules) {
      const r = s.rule;
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!s.re.test(path)) continue;
      s.seen++;
      if (s.seen <= (r.skip ?? 0)) continue;
      if (r.times !== undefined && s.injected >= r.times) continue;
      if (!s.rng.chance(r.rate ?? 1)) continue;
      s.injected++;
      if (r.kind === 'latency') out.latencyMs += r.latencyMs ?? 0;
      else if (!out.terminal) {
        out.terminal =
          r.kind === 'error'
            ? { kind: 'error', status: r.status ?? 500, message: r.message ?? 'simulated fault' }
            : { kind: r.kind };
      }
    }
    return out;
  }

  /** How many times each rule fired, in plan order. */
  counts(): number[] {
    return this.rules.map((s) => s.injected);
  }
}
