// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Hook of the online audit (`--pve URL`): collects `VmInput`s from the PVE API so that the report is
 * built by the same `buildAuditReport` as offline. The client comes from `src/cli/online.ts`
 * (`clientFromOptions`), the collection from `src/api/fleet.ts` (`collectFleet`).
 */
import type { AnalysisEnv, VmInput } from '../../analysis/types.js';
import type { PveClient } from '../../api/client.js';
import { collectFleet } from '../../api/fleet.js';
import { PveApiError, PveAuthError, PveConnectionError, PvePermissionError } from '../../api/errors.js';
import type { ConfigIssue } from '../../pve/types.js';
import { ExitError } from '../errors.js';
import { clientFromOptions, createProgress, normalisePveUrl } from '../online.js';

export interface OnlineAuditOptions {
  pve: string;
  tokenFile?: string;
  token?: string;
  fingerprint?: string;
  concurrency?: number;
  insecure?: boolean;
  node?: string;
  vmids?: number[];
  /** Progress per VM; without it a progress bar is drawn on stderr when that is a terminal. */
  onProgress?: (done: number, total: number) => void;
  /** Each VM's final input and env, as soon as known (see collectFleet). */
  onInput?: (input: VmInput, env: AnalysisEnv) => void;
}

export interface OnlineCollection {
  inputs: VmInput[];
  env: AnalysisEnv;
  errors: ConfigIssue[];
  /** The client that read them (for follow-up reads such as the risk evidence). */
  client?: PveClient;
}

/** What the admin can do about a failure to read the VM list (null when the message already says it). */
function whatToDo(err: PveApiError): string | null {
  if (err instanceof PveAuthError) {
    return 'the API token was refused: check the token file (one line USER@REALM!TOKENID=SECRET), that the token exists and has not expired (pveum user token list USER@REALM on a node), and that --pve is the right cluster';
  }
  if (err instanceof PvePermissionError) {
    return 'the token may not list the VMs: give it VM.Audit on /vms and Datastore.Audit on /storage (the PVEAuditor role on / has both)';
  }
  if (err instanceof PveConnectionError && err.kind !== 'tls') {
    return 'cannot reach the PVE API: check the host and port in --pve / PVE_URL (PVE listens on 8006), a firewall on the way, and that pveproxy runs on the node (systemctl status pveproxy)';
  }
  return null;
}

/** Collects the fleet from the PVE API. */
export async function collectOnline(opts: OnlineAuditOptions): Promise<OnlineCollection> {
  const client = await clientFromOptions(opts);
  const bar = opts.onProgress ? null : createProgress('audit');
  try {
    const fleet = await collectFleet(client, {
      ...(opts.node !== undefined ? { node: opts.node } : {}),
      ...(opts.vmids !== undefined ? { vmids: opts.vmids } : {}),
      ...(opts.onInput ? { onInput: opts.onInput } : {}),
      onProgress: ({ done, total }) => (opts.onProgress ? opts.onProgress(done, total) : bar!.update(done, total)),
    });
    return { ...fleet, client };
  } catch (err) {
    // The VM list itself could not be read (auth, TLS, network): nothing to audit.
    if (err instanceof PveApiError) {
      const hint = whatToDo(err);
      throw new ExitError(1, `${normalisePveUrl(opts.pve).origin}: ${err.request}: ${err.message.replace(/\n/g, '; ')}${hint ? `\n  ${hint}` : ''}`);
    }
    if (err instanceof Error && err.message.startsWith('--node ')) throw new ExitError(1, err.message);
    throw err;
  } finally {
    bar?.stop();
  }
}
