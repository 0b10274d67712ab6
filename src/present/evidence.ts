// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Risk evidence in words. One reason often cites the same key twice, as configured and as QEMU
 * runs it (`scsi0.iothread` 1 and false for an ignored IO thread): the label alone reads as a
 * contradiction, so every front end that drops the CLI's kind column says which one it is.
 */
import type { RiskEvidence } from '../analysis/types.js';

const KIND_WORDS: Record<RiskEvidence['kind'], string> = {
  config: 'configured',
  effective: 'runs',
  metric: 'measured',
  log: 'log',
  missing: 'not readable',
};

/** `scsi0.iothread (configured)`, `scsi0.iothread (runs)`, `start task (log)`. */
export function evidenceLabel(e: RiskEvidence): string {
  return `${e.label} (${KIND_WORDS[e.kind]})`;
}

/** `scsi0.iothread (configured): 1`: one piece of evidence on one line (the CLI's `--explain`). */
export function evidenceLine(e: RiskEvidence): string {
  return `${evidenceLabel(e)}: ${e.value}`;
}
