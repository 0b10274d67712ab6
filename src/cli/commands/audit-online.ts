// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Hook of the online audit (`--pve URL`): collects `VmInput`s from the PVE API so that the report is
 * built by the same `buildAuditReport` as offline.
 *
 * NOTE: the client (`src/cli/online.ts` clientFromOptions) and the collector (`src/api/fleet.ts`
 * collectFleet) are not part of this build yet; wire them here:
 *   const { clientFromOptions } = await import('../online.js');
 *   const { collectFleet } = await import('../../api/fleet.js');
 *   return collectFleet(await clientFromOptions(opts), { node: opts.node, vmids: opts.vmids, onProgress: opts.onProgress });
 */
import type { AnalysisEnv, VmInput } from '../../analysis/types.js';
import type { ConfigIssue } from '../../pve/types.js';
import { UsageError } from '../errors.js';

export interface OnlineAuditOptions {
  pve: string;
  tokenFile?: string;
  token?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  node?: string;
  vmids?: number[];
  onProgress?: (done: number, total: number) => void;
}

export interface OnlineCollection {
  inputs: VmInput[];
  env: AnalysisEnv;
  errors: ConfigIssue[];
}

/** Collects the fleet from the PVE API. */
export async function collectOnline(opts: OnlineAuditOptions): Promise<OnlineCollection> {
  throw new UsageError(
    `online audit (--pve ${opts.pve}) is not available yet in this build; audit a copy of /etc/pve with --config-dir DIR, or --conf FILE... --storage-cfg FILE`,
  );
}
