// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every user-visible string of the panel, in one catalogue ready for gettext. PVE's words:
 * "Hard Disk (scsi0)", Header Capitalization for titles, "Please wait...".
 */
import type { RiskLevel } from '../src/analysis/types.js';
import type { QuickFilter } from './data/fleet-query.js';
import { DEFAULT_AIO_LABEL } from '../src/present/disk-facts.js';

export const RISK_LABEL: Record<RiskLevel, string> = {
  critical: 'Critical',
  warning: 'Warning',
  info: 'Info',
  ok: 'OK',
  unknown: 'Unknown',
};

/** A VM's result of an apply run, in the words the CLI's summary uses too (never "Migrated"). */
export { OUTCOME_LABEL } from '../src/present/outcome.js';

/** Order of the risk filter and of sorting (worst first). */
export const RISK_ORDER: readonly RiskLevel[] = ['critical', 'warning', 'info', 'ok', 'unknown'];

/** Quick filters, in PVE's words ("Async IO", "IO thread"). */
export const QUICK_LABEL: Record<QuickFilter, string> = {
  'cold-start': 'Needs a Cold Start',
  'iothread-ignored': 'IO Thread Ignored',
  'aio-mislabelled': 'Async IO Mislabelled',
  templates: 'Templates',
};

/** 1,234 (the counter's thousands separators). */
const n = (x: number): string => x.toLocaleString('en-US');

const BUS_LABEL: Record<string, string> = { ide: 'IDE', sata: 'SATA', scsi: 'SCSI', virtio: 'VirtIO Block' };

export const S = {
  title: 'Disk Dataplane',
  loading: (done: number, total: number) =>
    total === 0
      ? 'Please wait...'
      : done < total
        ? `Loading VM configurations... ${n(done)} of ${n(total)} read`
        : // Every config is in; the risk evidence (node syslog, IO rates, backup jobs) follows.
          'Reading risk evidence (node syslog, IO load, backup jobs)...',
  /** The toolbar counter while configs arrive, then how many the filter shows. */
  readCount: (done: number, total: number) => `${n(done)} of ${n(total)} read`,
  shownCount: (shown: number, total: number) => `${n(shown)} of ${n(total)} VMs shown`,
  evidenceReading: 'Reading risk evidence (node syslog, IO load, backup jobs)...',
  configOnly: 'config only; evidence pending',
  template: 'Template',
  coldStartPending: 'pending changes',
  writtenColdStart: 'written, needs a cold start',
  pendingKeysTitle: (keys: readonly string[]) => `Pending until the next cold start: ${keys.join(', ')}`,
  quickFilters: 'Quick filters',
  exportCsv: 'Export CSV',
  exportJson: 'Export JSON',
  loadingConfig: 'Please wait...',
  emptyFleet: 'No VMs found: the cluster has no QEMU VMs this token may see (VM.Audit).',
  filteredEmpty: (what: string) => `No VMs match ${what}.`,
  clearFilter: 'Clear Filter',
  retry: 'Retry',
  refresh: 'Reload',
  loadError: 'Could not load the VM list',
  notes: (n: number) => `Assumptions and partial facts (${n})`,
  readOnlyNotice: (reason: string) => `Read-only mode: ${reason} Write actions are hidden; plans can still be previewed.`,
  /** Login mode: who the panel acts as (PVE's own wording in its top bar is the user id alone). */
  signedInAs: (user: string) => user,
  signOut: 'Logout',
  readOnlyShim: 'this panel is served by pve-dataplane with --read-only, which refuses every write before it reaches PVE.',
  allNodes: 'All Nodes',
  allRisks: 'All Risk Levels',
  search: 'Search VMID or name',
  planSelected: (n: number) => `Preview Changes (${n})`,
  closeDetails: 'Close',
  noReasons: 'No risk found for this VM.',
  fix: 'Fix',
  planTitle: 'Move to VirtIO SCSI single + IO thread',
  planBlocked: 'Blocked',
  planWarnings: 'Warnings',
  planColdStart: 'A cold start (reboot through PVE, or stop and start) makes the new settings run.',
  applyHowTo: 'Apply with the CLI (the journal it writes makes every change reversible):',
  applyCli: 'Or with the CLI',
  applyButton: (n: number) => `Apply to ${n} VM${n === 1 ? '' : 's'}`,
  applyFailed: 'Apply failed',
  applyJournal: 'Journal',
  downloadJournal: 'Download journal (JSONL)',
  resume: 'Resume',
  applyOff: 'Apply is off: the journals kept in this browser (IndexedDB) cannot be opened',
  legacyJournals: (n: number) => `${n} journal${n === 1 ? '' : 's'} of an earlier version (for pve-dataplane rollback --journal)`,
  applyHiddenReadOnly: 'Apply is hidden in read-only mode.',
  hiddenTicked: (n: number, included: boolean) =>
    `${n} ticked VM${n === 1 ? ' is' : 's are'} hidden by the filter and ${included ? 'included' : 'not included'}:`,
  includeHidden: (n: number) => `Include ${n === 1 ? 'it' : `these ${n}`} in the plan`,
  rebootLegend: 'After the write',
  rebootChoice: {
    never: 'Do not reboot (running VMs keep the change pending until their next cold start)',
    'if-stopped': 'Start nothing; stopped VMs take the change at their next start',
    now: 'Reboot through PVE now, node by node, and verify the new settings run',
  } as Record<'never' | 'now' | 'if-stopped', string>,
  perNode: 'Reboots at once per node',
  writtenHint: (n: number, canReboot: boolean) =>
    `${n} VM${n === 1 ? ' is' : 's are'} already written and only need${n === 1 ? 's' : ''} a cold start` +
    (canReboot ? ': choose "Reboot through PVE now" to include them.' : ': reboot them through PVE.'),
  writtenNeedsColdStart: 'Written, needs a cold start: the change sits in PVE\'s pending config; a reboot through PVE (or stop and start) makes it run. No second write.',
  applyHintFor: (reboot: 'never' | 'now' | 'if-stopped') =>
    reboot === 'now'
      ? 'One digest-guarded config write per VM, journalled for rollback, then a reboot through PVE, one node wave at a time.'
      : 'One digest-guarded config write per VM, journalled for rollback; no reboot: running VMs keep the change pending until their next cold start.',
  applyConfirmQuestion: (n: number, nodes: string, reboot: 'never' | 'now' | 'if-stopped') =>
    `Are you sure you want to move ${n} VM${n === 1 ? '' : 's'} on ${nodes} to VirtIO SCSI single with IO thread${reboot === 'now' ? ' and reboot them' : ''}?`,
  yes: 'Yes',
  no: 'No',
  applyJob: 'Apply job',
  nothingStarted: 'No job started: every VM changed since the preview',
  rollbackJob: 'Rollback job',
  running: 'running',
  cancelling: 'cancelling (the VMs in flight finish, no other starts)',
  cancel: 'Cancel',
  rollBack: 'Roll Back...',
  jobProgress: 'Job progress',
  jobVms: 'VMs of the job',
  leftOut: (n: number) => `${n} VM${n === 1 ? '' : 's'} left out of the job:`,
  pastRuns: 'Past Runs',
  noRuns: 'No runs yet: applies and rollbacks of this shim are listed here with their outcome.',
  rollbackTitle: (id: string) => `Roll Back ${id}`,
  rollbackHint: 'Restores the exact previous values of the chosen VMs from the run\'s journal (one digest-guarded write each).',
  rollbackConfirm: (n: number, nodes: string) => `Are you sure you want to roll back ${n} VM${n === 1 ? '' : 's'} on ${nodes}?`,
  rollbackButton: (n: number) => `Roll Back ${n} VM${n === 1 ? '' : 's'}`,
  diffMark: 'effective value differs from the configured one',
  defaultAio: DEFAULT_AIO_LABEL,
};

// PVE's labels (manager6/Utils.js render_scsihw).
const SCSIHW_LABEL: Record<string, string> = {
  lsi: 'LSI 53C895A',
  lsi53c810: 'LSI 53C810',
  megasas: 'MegaRAID SAS 8708EM2',
  'virtio-scsi-pci': 'VirtIO SCSI',
  'virtio-scsi-single': 'VirtIO SCSI single',
  pvscsi: 'VMware PVSCSI',
};

/** The SCSI controller as PVE's Hardware view names it; unset is `Default (LSI 53C895A)`. */
export function scsihwLabel(value: string | null): string {
  if (value === null) return `Default (${SCSIHW_LABEL['lsi']})`;
  return SCSIHW_LABEL[value] ?? value;
}

/** "Hard Disk (scsi0)" / "CD/DVD Drive (ide2)" as PVE's HardwareView names them. */
export function diskLabel(key: string, media: 'disk' | 'cdrom'): string {
  return media === 'cdrom' ? `CD/DVD Drive (${key})` : `Hard Disk (${key})`;
}

export function busLabel(bus: string): string {
  return BUS_LABEL[bus] ?? bus;
}
