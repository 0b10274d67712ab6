// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's DOM events: typed `Event` subclasses, `dp-` names, bubbles + composed, fired only
 * on user action (never when an owner sets a property).
 */
import type { RiskLevel } from '../src/analysis/types.js';

/** The fleet filter: empty strings mean "all". */
export interface FleetFilter {
  node: string;
  risk: RiskLevel | '';
  /** Matches VMID or name (case-insensitive substring). */
  text: string;
}

/** The user opened a VM's details (`vmid`), or closed them (`null`). */
export class DpVmSelectEvent extends Event {
  static readonly eventName = 'dp-vm-select';
  constructor(readonly vmid: number | null) {
    super(DpVmSelectEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user changed the fleet filter. */
export class DpFilterChangeEvent extends Event {
  static readonly eventName = 'dp-filter-change';
  constructor(readonly filter: FleetFilter) {
    super(DpFilterChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user changed which VMs are ticked for the migration plan. */
export class DpSelectionChangeEvent extends Event {
  static readonly eventName = 'dp-selection-change';
  constructor(readonly vmids: ReadonlySet<number>) {
    super(DpSelectionChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user confirmed applying the migration plan to `vmids`. */
export class DpApplyRequestEvent extends Event {
  static readonly eventName = 'dp-apply-request';
  constructor(readonly vmids: readonly number[]) {
    super(DpApplyRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user asked to retry a failed load. */
export class DpRetryEvent extends Event {
  static readonly eventName = 'dp-retry';
  constructor() {
    super(DpRetryEvent.eventName, { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'dp-vm-select': DpVmSelectEvent;
    'dp-filter-change': DpFilterChangeEvent;
    'dp-selection-change': DpSelectionChangeEvent;
    'dp-retry': DpRetryEvent;
    'dp-apply-request': DpApplyRequestEvent;
  }
}
