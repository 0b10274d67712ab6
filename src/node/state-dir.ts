// SPDX-License-Identifier: AGPL-3.0-or-later
/** The user's state directory for pve-dataplane (journals), per the XDG base-dir spec. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_STATE_HOME/pve-dataplane`, else `~/.local/state/pve-dataplane`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'pve-dataplane');
}

/**
 * Default journal of an apply: named after the plan's hash, so running `apply` again on the same
 * plan resumes into the same journal.
 */
export function defaultJournalPath(planHash: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'journals', `apply-${planHash.slice(0, 12)}.jsonl`);
}
