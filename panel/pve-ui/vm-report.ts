// SPDX-License-Identifier: AGPL-3.0-or-later
/** One VM's report as the audit computes it (config + storages + installed QEMU), over the API. */
import { analyzeVm, collectFleet } from '../../src/audit/index.js';
import type { VmReport } from '../../src/analysis/types.js';
import type { PveClient } from '../../src/api/client.js';

/** Reads and analyses VM `vmid` on `node`; null when the user may not see it. */
export async function loadVmReport(client: PveClient, node: string, vmid: number): Promise<VmReport | null> {
  const fleet = await collectFleet(client, { node, vmids: [vmid] });
  const input = fleet.inputs.find((i) => i.vmid === vmid);
  return input ? analyzeVm(input, fleet.env) : null;
}
