// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Puts together the risk evidence of one VM from what the audit has: the config (always), online
 * evidence (collectRiskEvidence in src/audit/evidence.ts), or offline files beside the configs
 * (`jobs.cfg`, `user.cfg` pools). Whatever is not there is marked unavailable with the reason.
 */
import type { AnalysisEnv, VmInput, VmReport } from '../types.js';
import { assessRisk } from './assess.js';
import { disksInForce, runState } from './context.js';
import { mainLoopDisks } from './main-loop.js';
import { type BackupJob, jobsCovering } from './backup-jobs.js';
import { riskFactsFromConfig } from './config-facts.js';
import { agentEnabled, guestOsWorthAsking } from './guest-os.js';
import type { Fact, HaState, RiskEvidenceInput } from './types.js';
import { OFFLINE, unavailable } from './types.js';

/** Where the non-config evidence comes from. All optional. */
export interface RiskSources {
  /** Online evidence per VMID (collectRiskEvidence). Takes precedence over the offline sources. */
  online?: Map<number, RiskEvidenceInput>;
  /** Offline: the vzdump jobs of `/etc/pve/jobs.cfg` (parseJobsCfg). */
  backupJobs?: BackupJob[];
  /** Offline: pool membership from `/etc/pve/user.cfg` (parsePoolsFromUserCfg). */
  pools?: Map<number, string>;
  /** Online: why the evidence was not collected when it was left out on purpose (`skipped: --no-evidence`). */
  skipped?: string;
}

/** Backup coverage from offline job files. */
function offlineBackupJobs(input: VmInput, jobs: BackupJob[], pools: Map<number, string> | undefined) {
  const cov = jobsCovering(jobs, { vmid: input.vmid, node: input.node, pool: pools ? (pools.get(input.vmid) ?? null) : undefined });
  if (cov.covering.length === 0 && cov.undetermined.length > 0) {
    return unavailable(`pool membership unknown for job ${cov.undetermined.join(', ')} (user.cfg not read)`, 'not-collected');
  }
  // Node defaults (/etc/vzdump.conf) live outside /etc/pve.
  return cov.covering.map((c) =>
    c.fleecing === 'unset' ? { ...c, nodeDefaultFleecing: unavailable('/etc/vzdump.conf is not in /etc/pve', 'offline') } : c,
  );
}

/**
 * The evidence for one VM. An input without `runtime` comes from a file (offline audit): online-only
 * facts are marked OFFLINE. An online input without collected evidence gets "not collected".
 */
export function riskEvidenceFor(input: VmInput, env: AnalysisEnv, sources: RiskSources = {}): RiskEvidenceInput {
  const config = riskFactsFromConfig(input, env);
  const online = sources.online?.get(input.vmid);
  if (online) return { ...config, ...online };
  const fromFile = input.runtime === undefined;
  const missing = fromFile ? OFFLINE : unavailable(sources.skipped ?? 'evidence collection did not run', 'not-collected');
  const ha: Fact<HaState> = fromFile ? OFFLINE : { managed: input.runtime!.haState !== undefined, ...(input.runtime!.haState ? { state: input.runtime!.haState } : {}) };
  // `config` is this call's own object: completed in place rather than copied (once per VM).
  config.qmpTimeouts = missing;
  config.io = missing;
  config.nodeCpu = missing;
  config.backupJobs = sources.backupJobs ? offlineBackupJobs(input, sources.backupJobs, sources.pools) : missing;
  config.ha = ha;
  return config;
}

/** The report with its `risk` set: the hook buildAuditReport calls for every VM. */
export function withRisk(report: VmReport, input: VmInput, env: AnalysisEnv, sources: RiskSources = {}): VmReport {
  report.risk = assessRisk(report, riskEvidenceFor(input, env, sources));
  return report;
}

/**
 * Which online evidence a VM's rules can use, so the collector skips requests no rule would read:
 * IO rates only for a running VM with a disk in the main loop; the snapshot list only when the
 * config names a current snapshot (`parent`). NOTE: after a rollback and the deletion of the
 * branch point, a snapshot on another branch can exist without `parent`; that rare case is missed.
 */
export function evidenceNeeds(report: VmReport, input: VmInput): { needsIo: boolean; hasSnapshots: boolean; askGuestOs: boolean } {
  const state = runState(report);
  const needsIo =
    !report.template && state !== 'stopped' && mainLoopDisks({ vm: report, evidence: {}, state, disks: disksInForce(report) }).length > 0;
  // The agent is asked only where the OS decides a rule (FreeBSD on VirtIO SCSI, guest-os.ts).
  const askGuestOs = guestOsWorthAsking(report, { tags: [], agent: agentEnabled(input.current['agent']) });
  return { needsIo, hasSnapshots: input.current['parent'] !== undefined, askGuestOs };
}
