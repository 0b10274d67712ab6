// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The messages between the panel's page and the Worker that runs its fleet audit
 * (fleet-audit-worker.ts): what starts a load, what it reports while it runs, how it ends. Plain
 * data only (structured clone); an error crosses as its fields and is rebuilt as the same typed
 * `PveApiError` subclass, so the views word it as they would in-thread.
 */
import type { PendingBatchAdvert } from '../../api-shim/contracts/pending-batch.js';
import type { AuditReport, AnalysisEnv, VmInput, VmReport } from '../../src/analysis/types.js';
import type { PermissionMap } from '../../src/api/endpoints/access.js';
import {
  PveApiError,
  PveAuthError,
  PveConnectionError,
  PveDigestMismatchError,
  PveLockedError,
  PveNotFoundError,
  PveParamError,
  PvePermissionError,
  PveTaskError,
  type ConnectionFailure,
  type PveErrorInit,
} from '../../src/api/errors.js';

/** Page -> worker: read and audit (the client the worker builds: same origin, the browser's cookies). */
export interface StartMessage {
  kind: 'start';
  /** `/api2/json`, or an absolute URL of the same origin. */
  apiBase: string;
  concurrency: number;
  /** The page's CSRFPreventionToken at start (only writes need it; the audit only reads). */
  csrfToken?: string;
  /** The shim's batched config read, when it has one (`/dp/config`). */
  pendingBatch?: PendingBatchAdvert;
  node?: string;
  vmids?: readonly number[];
}

/** A VM whose risk was reassessed: the report again, or only its VMID when the same batch hands it. */
export interface RiskUpdate {
  vmid: number;
  report?: VmReport;
}

/** Worker -> page, at most about once per frame while the load runs. */
export interface BatchMessage {
  kind: 'batch';
  /** Configs read: done of total, the latest. */
  progress?: [done: number, total: number];
  /** VMs analysed from their configs, in the order they came. */
  vms: [VmReport, VmInput][];
  /** Every config is in; the evidence is being read (announced once). */
  evidence: boolean;
  risks: RiskUpdate[];
}

/**
 * Worker -> page: the load finished. The VM reports and inputs are not sent again: the page holds
 * them from the batches (by VMID); only those it was never handed come along (`extraVms`).
 */
export interface DoneMessage {
  kind: 'done';
  report: Omit<AuditReport, 'vms'>;
  /** The final order of `report.vms`. */
  vmOrder: number[];
  /** The order of `inputs`. */
  inputOrder: number[];
  extraVms: VmReport[];
  extraInputs: VmInput[];
  env: AnalysisEnv;
  permissions: PermissionMap | null;
}

/** Worker -> page: the load failed. */
export interface FailedMessage {
  kind: 'failed';
  error: SentError;
}

/** Worker -> page, first of all: the module ran (a worker that cannot load never says this). */
export interface ReadyMessage {
  kind: 'ready';
}

export type FromWorker = ReadyMessage | BatchMessage | DoneMessage | FailedMessage;

/** An error as it crosses the boundary. */
export interface SentError {
  name: string;
  message: string;
  /** A PveApiError's init, when it was one. */
  pve?: PveErrorInit & { kind?: ConnectionFailure; maybeSent?: boolean };
}

/** The fields of `err` that rebuild it on the other side. */
export function sendableError(err: unknown): SentError {
  if (err instanceof PveApiError) {
    const pve: SentError['pve'] = { status: err.status, text: err.text, fieldErrors: err.fieldErrors, method: err.method, path: err.path };
    if (err.task) pve.task = err.task;
    if (err instanceof PveConnectionError) Object.assign(pve, { kind: err.kind, maybeSent: err.maybeSent });
    return { name: err.name, message: err.message, pve };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

const PVE_ERRORS: Record<string, new (init: PveErrorInit) => PveApiError> = {
  PveApiError,
  PveParamError,
  PveAuthError,
  PvePermissionError,
  PveDigestMismatchError,
  PveLockedError,
  PveNotFoundError,
  PveTaskError,
};

/** The error `sendableError` described, as the same class (message included). */
export function receivedError(sent: SentError): Error {
  if (sent.pve) {
    if (sent.name === 'PveConnectionError') {
      return new PveConnectionError({ ...sent.pve, kind: sent.pve.kind ?? 'network', maybeSent: sent.pve.maybeSent ?? false });
    }
    return new (PVE_ERRORS[sent.name] ?? PveApiError)(sent.pve);
  }
  return Object.assign(new Error(sent.message), { name: sent.name });
}
