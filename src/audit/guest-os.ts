// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The guest OS as the guest agent reports it (`agent/get-osinfo`), as a risk fact: what the
 * FreeBSD recognition (src/analysis/risk/guest-os.ts) trusts over names and tags.
 */
import type { Fact, GuestOsInfo } from '../analysis/risk/types.js';
import { unavailable } from '../analysis/risk/types.js';
import type { PveClient, RequestOptions } from '../api/client.js';
import { fetchAgentOsInfo } from '../api/endpoints/qemu.js';
import { PveApiError, PveConnectionError, PvePermissionError } from '../api/errors.js';

/**
 * The agent's answer, or why there is none (no privilege, agent not running). Only an abort is
 * rethrown: a guest without a working agent is common and falls back to the heuristic.
 */
export async function guestOsFact(client: Pick<PveClient, 'get'>, node: string, vmid: number, req: RequestOptions = {}): Promise<Fact<GuestOsInfo>> {
  try {
    const r = await fetchAgentOsInfo(client as PveClient, node, vmid, req);
    const info: GuestOsInfo = {};
    if (typeof r.id === 'string') info.id = r.id;
    if (typeof r.name === 'string') info.name = r.name;
    if (typeof r['pretty-name'] === 'string') info.prettyName = r['pretty-name'];
    if (typeof r['kernel-version'] === 'string') info.kernelVersion = r['kernel-version'];
    return info;
  } catch (err) {
    if (err instanceof PveConnectionError && err.kind === 'aborted') throw err;
    if (err instanceof PvePermissionError) {
      return unavailable(`missing privilege VM.GuestAgent.Audit (PVE 8: VM.Monitor) on /vms/${vmid}`, 'permission');
    }
    const text = err instanceof PveApiError ? err.text : err instanceof Error ? err.message : String(err);
    return unavailable(`guest agent did not answer get-osinfo (${text.split('\n')[0]})`, 'error');
  }
}
