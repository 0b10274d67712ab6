// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Offline risk sources in a copy of /etc/pve: `jobs.cfg` (backup jobs, PVE 7.1+) and the pool lines
 * of `user.cfg` (for jobs that select a pool). Missing files are fine: a tree without `jobs.cfg`
 * leaves the backup part unknown, and the report says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJobsCfg, parsePoolsFromUserCfg, type RiskSources } from '../analysis/risk/index.js';
import type { ConfigIssue } from '../pve/types.js';

async function readOptional(path: string): Promise<string | null | Error> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : (err as Error);
  }
}

/** Reads `<dir>/jobs.cfg` and `<dir>/user.cfg`; unreadable (not missing) files become warnings. */
export async function readRiskFiles(dir: string): Promise<{ sources: RiskSources; issues: ConfigIssue[] }> {
  const issues: ConfigIssue[] = [];
  const sources: RiskSources = {};
  const [jobs, users] = await Promise.all([readOptional(join(dir, 'jobs.cfg')), readOptional(join(dir, 'user.cfg'))]);
  if (jobs instanceof Error) {
    issues.push({ source: join(dir, 'jobs.cfg'), severity: 'warning', message: `cannot read backup jobs (${jobs.message}): the backup part of the risk stays unknown` });
  } else if (jobs !== null) {
    sources.backupJobs = parseJobsCfg(jobs);
  }
  if (users instanceof Error) {
    issues.push({ source: join(dir, 'user.cfg'), severity: 'warning', message: `cannot read pools (${users.message}): backup jobs that select a pool stay unknown` });
  } else if (users !== null) {
    sources.pools = parsePoolsFromUserCfg(users);
  }
  return { sources, issues };
}
