// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `audit --pve URL`: the Node client from the options (`src/cli/online.ts`), a progress bar on a
 * terminal, the audit service's `auditCluster`, and what the admin can do when the VM list cannot
 * be read.
 */
import type { AuditReport } from '../../analysis/types.js';
import { auditCluster } from '../../audit/cluster.js';
import { UnknownNodeError } from '../../audit/fleet.js';
import type { AuditOptions as ServiceOptions } from '../../audit/options.js';
import { PveApiError } from '../../api/errors.js';
import { ExitError } from '../errors.js';
import { clientFromOptions, createProgress, normalisePveUrl } from '../online.js';
import { readFailureHint } from '../read-hint.js';

export interface OnlineAuditOptions {
  pve: string;
  tokenFile?: string;
  token?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  /** Also read the risk evidence (default); false with --no-evidence. */
  riskEvidence?: boolean;
  /** Progress per VM; without it a progress bar is drawn on stderr when that is a terminal. */
  onProgress?: (done: number, total: number) => void;
}

/** Audits the cluster behind `--pve`. */
export async function auditOnline(opts: OnlineAuditOptions, common: ServiceOptions): Promise<AuditReport> {
  const client = await clientFromOptions(opts);
  const bar = opts.onProgress ? null : createProgress('audit');
  try {
    return await auditCluster(client, {
      ...common,
      evidence: opts.riskEvidence === true,
      // Without evidence the risk says why: the user skipped it.
      ...(opts.riskEvidence === false ? { evidenceSkipped: 'skipped: --no-evidence' } : {}),
      onProgress: ({ phase, done, total }) => {
        if (phase !== 'configs') return;
        if (opts.onProgress) opts.onProgress(done, total);
        else bar!.update(done, total);
      },
    });
  } catch (err) {
    // The VM list itself could not be read (auth, TLS, network): nothing to audit.
    if (err instanceof PveApiError) {
      const hint = readFailureHint(err);
      throw new ExitError(1, `${normalisePveUrl(opts.pve).origin}: ${err.request}: ${err.message.replace(/\n/g, '; ')}${hint ? `\n  ${hint}` : ''}`);
    }
    if (err instanceof UnknownNodeError) throw new ExitError(1, err.message);
    throw err;
  } finally {
    bar?.stop();
  }
}
