// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A VM's result of an apply or rollback run in words, for every front end (the CLI's summary, the
 * panel, the PVE-UI tab). Never "migrate"/"migrated": to a PVE admin that is a live migration to
 * another node, not the change of controller and disk options. The result *code* `migrated` in
 * the journal, the jobs API and `--format json` keeps its name: it is a stable contract that
 * journals already written and scripts rely on; only the words shown change.
 */
import type { VmOutcome } from '../migration/journal-model.js';

export const OUTCOME_LABEL: Record<VmOutcome, string> = {
  migrated: 'Converted to VirtIO SCSI single',
  'pending-reboot': 'Written, pending a cold start',
  skipped: 'Skipped',
  failed: 'Failed',
  restored: 'Rolled back',
  'awaiting-confirmation': 'Awaiting confirmation',
};

/** The label inside a sentence or a list heading: `converted to VirtIO SCSI single`. */
export function outcomeWords(outcome: VmOutcome): string {
  const label = OUTCOME_LABEL[outcome];
  return label.charAt(0).toLowerCase() + label.slice(1);
}
