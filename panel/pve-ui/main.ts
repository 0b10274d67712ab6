// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Entry of pve-dataplane-ui.js, the script index.html.tpl loads after pvemanagerlib.js (the
 * `pve-dataplane-ui install` line): registers the elements, adds the tabs and the Hardware-view
 * notes. Nothing here may throw into PVE's page.
 */
import { installConfigTabs, type PveNamespace } from './glue.js';
import { type HardwareViewClass, installFixButton, installHardwareNotes } from './hardware-glue.js';
import { pveUiClient } from './pve-client.js';
import { loadVmReport } from './vm-report.js';
import './dp-pve-tab.js';

type PveGlobal = { PVE?: PveNamespace & { qemu?: { HardwareView?: HardwareViewClass } }; Ext?: Parameters<typeof installFixButton>[1] extends () => infer E ? E : never };

const log = (message: string, err?: unknown): void => console.warn(`pve-dataplane: ${message}`, err ?? '');

try {
  const g = globalThis as PveGlobal;
  installConfigTabs(g.PVE, log);
  const client = pveUiClient();
  installHardwareNotes(g.PVE?.qemu?.HardwareView, (node, vmid) => loadVmReport(client, node, vmid), log);
  installFixButton(document, () => (globalThis as PveGlobal).Ext, log);
} catch (err) {
  log('not added to the PVE web UI', err);
}
