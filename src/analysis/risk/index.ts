// SPDX-License-Identifier: AGPL-3.0-or-later
/** Soft-lockup / freeze risk: reasons with evidence, levels and fixes. See docs/risk-model.md. */
export { assessRisk, sortReasons } from './assess.js';
export { nextStartFailures } from './aio.js';
export { RISK_CODES, SEVERITY_RANK, type RiskCode } from './codes.js';
export { riskFactsFromConfig, throttleLimits } from './config-facts.js';
export { countQmpTimeouts, noQmpTimeouts } from './qmp-timeouts.js';
export { type DeriveSample, summariseExport, summariseRrd } from './io-load.js';
export { type ApproximateWindow, type NodeClock, type SyslogWindow, syslogWindow, zoneOffsetSec } from './syslog-window.js';
export {
  type BackupJob,
  type BackupSubject,
  backupJobFromApi,
  jobsCovering,
  parseFleecing,
  parseJobsCfg,
  parsePoolsFromUserCfg,
} from './backup-jobs.js';
export { isNetworkStorage } from './snapshots.js';
export * from './types.js';
export { type RiskSources, evidenceNeeds, riskEvidenceFor, withRisk } from './sources.js';
