// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's DOM events: typed `Event` subclasses, `dp-` names, bubbles + composed, fired only
 * on user action (never when an owner sets a property).
 */
import type { RebootPolicy } from '../src/migration/journal-model.js';
import type { MigrationPlan } from '../src/migration/types.js';
import type { LeftOut, RunChoice } from './data/bulk-apply.js';
import type { JobListItem, JobView } from './data/jobs.js';
import type { FleetQuery, FleetSort } from './data/fleet-query.js';

/** The fleet filter: the query without sort and open VM; empty strings mean "all". */
export type FleetFilter = Pick<FleetQuery, 'text' | 'node' | 'risk' | 'quick'>;

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

/** The user clicked a column header. */
export class DpSortChangeEvent extends Event {
  static readonly eventName = 'dp-sort-change';
  constructor(readonly sort: FleetSort) {
    super(DpSortChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user changed which VMs are ticked for the migration plan. */
export class DpSelectionChangeEvent extends Event {
  static readonly eventName = 'dp-selection-change';
  constructor(readonly vmids: ReadonlySet<number>) {
    super(DpSelectionChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user confirmed applying `plan` (exactly as previewed) to `vmids`, with a reboot choice. */
export class DpApplyRequestEvent extends Event {
  static readonly eventName = 'dp-apply-request';
  constructor(
    readonly plan: MigrationPlan,
    readonly vmids: readonly number[],
    readonly reboot: RebootPolicy = 'never',
    /** Reboots at once per node (`reboot: now`). */
    readonly perNode = 1,
  ) {
    super(DpApplyRequestEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user closed a dialog (Escape, the close tool, or outside it). */
export class DpCloseEvent extends Event {
  static readonly eventName = 'dp-close';
  constructor() {
    super(DpCloseEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user chose whether ticked VMs the filter hides join the plan. */
export class DpIncludeHiddenEvent extends Event {
  static readonly eventName = 'dp-include-hidden';
  constructor(readonly include: boolean) {
    super(DpIncludeHiddenEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user changed the reboot choice of a run. */
export class DpRebootChangeEvent extends Event {
  static readonly eventName = 'dp-reboot-change';
  constructor(readonly choice: RunChoice) {
    super(DpRebootChangeEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A job was started (apply or rollback): the owner follows it. */
export class DpJobStartedEvent extends Event {
  static readonly eventName = 'dp-job-started';
  constructor(
    readonly job: JobView,
    /** VMs left out before the job started, and why. */
    readonly leftOut: readonly LeftOut[] = [],
  ) {
    super(DpJobStartedEvent.eventName, { bubbles: true, composed: true });
  }
}

/** A followed job ended (its VMs' configs changed: the owner reloads the fleet). */
export class DpJobEndEvent extends Event {
  static readonly eventName = 'dp-job-end';
  constructor(readonly job: JobListItem) {
    super(DpJobEndEvent.eventName, { bubbles: true, composed: true });
  }
}

/** The user asked to roll back job `jobId` (opens the rollback form). */
export class DpRollbackOpenEvent extends Event {
  static readonly eventName = 'dp-rollback-open';
  constructor(readonly jobId: string) {
    super(DpRollbackOpenEvent.eventName, { bubbles: true, composed: true });
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
    'dp-sort-change': DpSortChangeEvent;
    'dp-selection-change': DpSelectionChangeEvent;
    'dp-retry': DpRetryEvent;
    'dp-close': DpCloseEvent;
    'dp-include-hidden': DpIncludeHiddenEvent;
    'dp-reboot-change': DpRebootChangeEvent;
    'dp-job-started': DpJobStartedEvent;
    'dp-job-end': DpJobEndEvent;
    'dp-rollback-open': DpRollbackOpenEvent;
    'dp-apply-request': DpApplyRequestEvent;
  }
}
