// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Services shared down the element tree (`@lit/context`): provided once by `<dp-app>`, consumed
 * with `@consume({context, subscribe: true})`.
 */
import { createContext } from '@lit/context';
import type { PveClient } from '../src/api/client.js';

/** The PVE API client (same-origin `/api2/json` through the shim, or inside the PVE UI). */
export const apiClientContext = createContext<PveClient | undefined>(Symbol('dp-api-client'));

/** What the panel knows about where it runs; `readOnly` hides every write action. */
export interface PanelMode {
  readOnly: boolean;
  /** Why writes are off, shown to the user (empty when they are on). */
  readOnlyReason: string;
  /** `pve1:8006`: the PVE the shim talks to (empty inside the PVE UI). */
  upstream: string;
  /** The shim can apply a plan (`POST /dp/plans` then `POST /dp/jobs`): served by a writable shim. */
  canApply: boolean;
  /** The shim's CSRF token for writes (empty inside the PVE UI). */
  csrfToken: string;
}

export const panelModeContext = createContext<PanelMode>(Symbol('dp-panel-mode'));

/**
 * Windows (`<dp-dialog>`) drawn in the page flow instead of as modal windows: inside a PVE tab
 * that shows one VM, its details and plan are the tab's content, not windows over it.
 */
export const inlineDialogsContext = createContext<boolean>(Symbol('dp-inline-dialogs'));
