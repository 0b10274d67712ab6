// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the admin can do when PVE cannot be read at all (audit, plan, apply, rollback): one
 * wording for every command.
 */
import { PveApiError, PveAuthError, PveConnectionError, PvePermissionError } from '../api/errors.js';

/** The hint for a failed read, or null when the error's own message already says it. */
export function readFailureHint(err: unknown): string | null {
  if (!(err instanceof PveApiError)) return null;
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
