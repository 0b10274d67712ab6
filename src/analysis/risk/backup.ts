// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * BACKUP_NO_FLEECING: a backup job covers the VM without fleecing.
 *
 * A related risk, not an IO-thread issue. While a VM backup runs, QEMU's copy-before-write makes a
 * guest write to a block that is not yet backed up wait until the old block has been copied to the
 * backup target, so guest IO is "limited by the speed of the backup target"; fleecing copies to a
 * local fleecing image instead and "can help guest IO performance and even prevent hangs"
 * (pve-docs vzdump.adoc, PVE 8.2+). Many forum reports of guest soft lockups during vzdump/PBS
 * backups. An IO thread does not change this mechanism.
 *
 * A job that leaves `fleecing` unset runs with the default of the node it runs on: the `fleecing`
 * line of that node's /etc/vzdump.conf, else off. That file is node-local (not in /etc/pve) and
 * nothing else in the API mirrors it, so when `/nodes/{n}/vzdump/defaults` cannot be read the job's
 * fleecing is unknown: NOT_CHECKED naming what could not be read, never a guessed "off".
 */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { evidence, notChecked, reason, valueOf } from './context.js';
import type { BackupJobCoverage, Unavailable } from './types.js';
import { isUnavailable } from './types.js';

/** on / off, or the unreadable node default that decides it. */
function fleecingOf(job: BackupJobCoverage): boolean | Unavailable {
  if (job.fleecing !== 'unset') return job.fleecing === 'on';
  const dflt = job.nodeDefaultFleecing;
  if (isUnavailable(dflt)) return dflt ?? { unavailable: 'node default not collected', cause: 'not-collected' };
  return dflt === true;
}

function fleecingEvidence(job: BackupJobCoverage): string {
  if (job.fleecing !== 'unset') return job.fleecing;
  return `not set in the job; node default (/etc/vzdump.conf): ${valueOf(job.nodeDefaultFleecing) ? 'on' : 'off'}`;
}

/** One NOT_CHECKED per unreadable node default, naming every job whose fleecing it decides. */
function unknownFleecing(ctx: RiskContext, jobs: { job: BackupJobCoverage; why: Unavailable }[]): RiskReason[] {
  const node = ctx.vm.node ?? '{node}';
  const byWhy = new Map<string, { why: Unavailable; ids: string[] }>();
  for (const { job, why } of jobs) {
    const g = byWhy.get(why.unavailable) ?? { why, ids: [] };
    g.ids.push(job.id);
    byWhy.set(why.unavailable, g);
  }
  return [...byWhy.values()].map(({ why, ids }) => {
    const list = ids.join(', ');
    const source = why.cause === 'offline' ? `/etc/vzdump.conf on ${node}` : `/nodes/${node}/vzdump/defaults`;
    const r = notChecked(
      `whether backup job${ids.length === 1 ? '' : 's'} ${list} run${ids.length === 1 ? 's' : ''} with fleecing (not set in the job, so /etc/vzdump.conf on node ${node} decides)`,
      source,
      why,
    );
    return {
      ...r,
      fix: `${r.fix} Or set fleecing explicitly on job ${list} (Datacenter → Backup → Edit → Advanced); then the node default does not matter.`,
      steps: [...r.steps, { action: 'enable-fleecing', jobs: ids, explicit: true }],
    };
  });
}

export function backupReasons(ctx: RiskContext): RiskReason[] {
  if (isUnavailable(ctx.evidence.backupJobs)) {
    return [notChecked('backup jobs for fleecing', '/cluster/backup', ctx.evidence.backupJobs)];
  }
  const jobs = valueOf(ctx.evidence.backupJobs)!;
  const unknown: { job: BackupJobCoverage; why: Unavailable }[] = [];
  const without: BackupJobCoverage[] = [];
  for (const j of jobs) {
    const f = fleecingOf(j);
    if (typeof f === 'object') unknown.push({ job: j, why: f });
    else if (!f) without.push(j);
  }
  const reasons = without.map((j) => {
    const where = [j.schedule, j.storage ? `to ${j.storage}` : null, `mode ${j.mode}`].filter(Boolean).join(', ');
    return reason({
      code: 'BACKUP_NO_FLEECING',
      severity: 'warning',
      message: `Backup job ${j.id} (${where}) covers this VM without fleecing: while it runs, guest writes to blocks not yet backed up wait for the backup target, which can stall the guest.`,
      evidence: [
        evidence('config', `backup job ${j.id}`, `selects the VM by ${j.selection}`),
        evidence('config', `backup job ${j.id} fleecing`, fleecingEvidence(j)),
        ...(j.storage ? [evidence('config', `backup job ${j.id} storage`, j.storage)] : []),
      ],
      fix: `Enable fleecing on backup job ${j.id} (Datacenter → Backup → Edit → Advanced, with a fast local storage; PVE 8.2 or later). An IO thread does not prevent this stall.`,
      steps: [{ action: 'enable-fleecing', jobs: [j.id] }],
    });
  });
  return [...reasons, ...unknownFleecing(ctx, unknown)];
}
