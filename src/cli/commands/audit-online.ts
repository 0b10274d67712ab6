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
import { PveApiError, PveAuthError, PveConnectionError, PvePermissionError } from '../../api/errors.js';
import { ExitError } from '../errors.js';
import { clientFromOptions, createProgress, normalisePveUrl } from '../online.js';

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

/** What the admin can do about a failure to read the VM list (null when the message already says it). */
function whatToDo(err: PveApiError): string | null {
  if (err instanceof PveAuthError) {
    return 'the API token was refused: check the token file (one line USER@REALM!TOKENID=SECRET), that the token exists and has not expired (pveum user token list USER@REALM on a node), and that --pve is the right cluster';
  }
  if (err instanceof PvePermissionError) {
    return 'the token may not list the VMs: give it VM.Audit on /vms and Datastore.Audit on /storage (the PVEAuditor role has both)';
  }
  if (err instanceof PveConnectionError && err.kind !== 'tls') {
    return 'cannot reach the PVE API: check the host and port in --pve / PVE_URL (PVE listens on 8006), a firewall on the way, and that pveproxy runs on the node (systemctl status pveproxy)';
  }
  return null;
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
      const hint = whatToDo(err);
      throw new ExitError(1, `${normalisePveUrl(opts.pve).origin}: ${err.request}: ${err.message.replace(/\n/g, '; ')}${hint ? `\n  ${hint}` : ''}`);
    }
    if (err instanceof UnknownNodeError) throw new ExitError(1, err.message);
    throw err;
  } finally {
    bar?.stop();
  }
}
