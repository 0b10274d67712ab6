// SPDX-License-Identifier: AGPL-3.0-or-later
/** What the main thread and the audit worker (./audit-worker.ts) pass each other. */
import type { AuditOptions } from '../audit/options.js';
import type { ConfigIssue } from '../pve/types.js';

/** The worker's `workerData`: which VMs of which tree. */
export interface ShareRequest {
  configDir: string;
  storageCfg?: string;
  /** The audit's options (no callbacks), with the worker's `vmidRange`. */
  options: Omit<AuditOptions, 'onVm' | 'onProgress'>;
}

/** Worker → main, in this order: `prepared`, `json` pieces, `done`. */
export type ShareMessage =
  /** The share's files are read: its errors and warnings, and the node of each of its VMs. */
  | { kind: 'prepared'; errors: ConfigIssue[]; warnings?: ConfigIssue[]; nodes: Array<string | null> }
  /** The next lines of the share's VMs in the JSON document (`jsonVmPieces`), UTF-8. */
  | { kind: 'json'; bytes: Uint8Array }
  /** Every VM is written; the config issues of the share's VMs, in order. */
  | { kind: 'done'; issues: ConfigIssue[] };
