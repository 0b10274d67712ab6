// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Entry of pve-dataplane-ui.js, the script index.html.tpl loads after pvemanagerlib.js (the
 * `pve-dataplane-ui install` line): registers the elements and adds the tabs. Nothing here may
 * throw into PVE's page.
 */
import { installConfigTabs } from './glue.js';
import './dp-pve-tab.js';

type PveGlobal = { PVE?: Parameters<typeof installConfigTabs>[0] };

try {
  installConfigTabs((globalThis as PveGlobal).PVE);
} catch (err) {
  console.warn('pve-dataplane: not added to the PVE web UI', err);
}
