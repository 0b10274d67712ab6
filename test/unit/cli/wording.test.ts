// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * "Migrate"/"migrated" reads like a live migration (a VM moved to another node) to a PVE admin.
 * The CLI's words for the change to VirtIO SCSI single + IO thread are the panel's
 * (src/present/outcome.ts); only the stable result code `migrated` (journal, jobs API, JSON) keeps
 * its name.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { GATES } from '../../../src/migration/gates.js';
import type { VmOutcome } from '../../../src/migration/journal-model.js';
import { formatSummary } from '../../../src/migration/plan-format.js';
import { OUTCOME_LABEL } from '../../../src/present/outcome.js';
import { captureIO } from './capture.js';

const MIGRATE = /migrat/i;

describe("the CLI's words for the change", () => {
  it('an apply or rollback summary names every outcome in the panel\'s words, never "migrated"', () => {
    const outcomes = Object.keys(OUTCOME_LABEL) as VmOutcome[];
    const text = formatSummary({ run: 'r', counts: {}, results: outcomes.map((result, i) => ({ vmid: 100 + i, node: 'pve1', result })) }, { color: false });
    expect(text).toContain('converted to VirtIO SCSI single: 1\n  100 (pve1)\n');
    expect(text).toContain('rolled back: 1\n');
    expect(text).toContain('written, pending a cold start: 1\n');
    expect(text).not.toMatch(MIGRATE);
  });

  it('gate titles and override hints never say "migrate"', () => {
    for (const [code, gate] of Object.entries(GATES)) {
      expect(`${gate.title} ${'override' in gate ? gate.override : ''}`, code).not.toMatch(MIGRATE);
    }
    expect(GATES.PASSTHROUGH_ROOT_ONLY.override).toContain('convert the other disks');
  });

  it.each(['plan', 'apply', 'rollback'])('%s --help never says "migrate"', async (command) => {
    const io = captureIO({ env: { COLUMNS: '1000' } });
    expect(await runCli([command, '--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: pve-dataplane');
    expect(io.out()).not.toMatch(MIGRATE);
  });
});
