// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * BACKUP_NO_FLEECING: a backup job covers the VM without fleecing.
 *
 * A related risk, not an IO-thread issue. While a VM backup runs, QEMU's copy-before-write makes a
 * guest write to a block that is not yet backed up wait until the old block has been copied to the
 * backup target, so guest IO is "limited by the speed of the backup target"; fleecing copies to a
 * local fleecing image instead and "can help guest IO performance and even prevent hangs"
 * (pve-docs vzdump.adoc, PVE 8.2+). Many forum reports of guest soft lockups during vzdump/PBS
 * backups (EVIDENCE §2.1). An IO thread does not change this mechanism.
 */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { evidence, notChecked, reason, valueOf } from './context.js';
import type { BackupJobCoverage } from './types.js';
import { isUnavailable } from './types.js';

/** True when the job runs with fleecing (explicit, or unset with a node default that enables it). */
function hasFleecing(job: BackupJobCoverage): boolean {
  if (job.fleecing !== 'unset') return job.fleecing === 'on';
  return valueOf(job.nodeDefaultFleecing) === true;
}

function fleecingEvidence(job: BackupJobCoverage): string {
  if (job.fleecing !== 'unset') return job.fleecing;
  const dflt = job.nodeDefaultFleecing;
  if (dflt === undefined) return 'not set in the job (PVE default: off)';
  if (isUnavailable(dflt)) return `not set in the job; node default not read (${dflt!.unavailable}); PVE default: off`;
  return `not set in the job; node default: ${dflt ? 'on' : 'off'}`;
}

export function backupReasons(ctx: RiskContext): RiskReason[] {
  if (isUnavailable(ctx.evidence.backupJobs)) {
    return [notChecked('backup jobs for fleecing', '/cluster/backup', ctx.evidence.backupJobs)];
  }
  const jobs = valueOf(ctx.evidence.backupJobs)!;
  return jobs
    .filter((j) => !hasFleecing(j))
    .map((j) => {
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
      });
    });
}
