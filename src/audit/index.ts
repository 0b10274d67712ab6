// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The audit service, the one entry point of the CLI, the panel, the shim, the tests and the
 * benchmarks: `auditFiles(reader, options)` offline, `auditCluster(client, options)` online, both
 * returning an `AuditReport`; `toAuditJson(report)` writes the documented JSON.
 */
export { auditFiles, listSome } from './files.js';
export { auditCluster, type ClusterAuditRun } from './cluster.js';
export { toAuditJson, toVmJson } from './json.js';
export type { AuditOptions, AuditProgress, AuditRun, AuditVmEvent, ClusterAuditOptions } from './options.js';
export type { ConfFile, ConfigRead, ConfigReader, ReadFilter } from './reader.js';
export { DEFAULT_INSTALLED_QEMU, auditAssumptions, buildAuditReport } from './report.js';
export { analyzeVm, vmInputFromFile } from './vm-report.js';
export { type ClusterEnv, type CollectFleetOptions, type FleetProgress, type FleetResult, UnknownNodeError, collectEnv, collectFleet, hiddenStorages, vmInputFromPending } from './fleet.js';
export { type CollectEvidenceOptions, type EvidenceFleet, type EvidenceVm, collectRiskEvidence, unavailableFrom } from './evidence.js';
export { type BacklogOptions, type SliceOptions, type YieldToHost, Backlog, SLICE_MS, forEachSliced, yieldToHost, yieldToIo } from './slices.js';
export type { AuditReport } from '../analysis/types.js';
