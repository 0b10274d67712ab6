// SPDX-License-Identifier: AGPL-3.0-or-later
/** What an admin sees of the risk: the table line per VM, the totals, and `--explain`. */
import { describe, expect, it } from 'vitest';
import { assessRisk } from '../../../src/analysis/risk/index.js';
import type { AuditReport } from '../../../src/analysis/types.js';
import { formatExplain } from '../../../src/cli/output/explain.js';
import { formatTable } from '../../../src/cli/output/table.js';
import { disk, quietEvidence, singleIothread, vm } from './build.js';

function report(): AuditReport {
  const lsi = vm([disk('scsi0', { iothread: true, iothreadEffective: false }), disk('scsi1')]);
  lsi.risk = assessRisk(lsi, quietEvidence({ nodeCpu: { unavailable: 'missing privilege Sys.Audit on /nodes/pve1', cause: 'permission' } }));
  const clean = vm([singleIothread('scsi0')], { vmid: 101, name: 'clean', scsihw: { configured: 'virtio-scsi-single', effective: 'virtio-scsi-single' } });
  clean.risk = assessRisk(clean, quietEvidence());
  return { vms: [lsi, clean], assumptions: [], errors: [] };
}

describe('audit table', () => {
  const text = formatTable(report(), { color: false });

  it('shows the level and the top reason under each VM header', () => {
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('VM 100'));
    expect(lines[at + 1]).toBe(
      '  risk ! warning  MAIN_LOOP_IO scsi0: scsi0 has no IO thread (iothread=1 is set but not in effect): every request to its emulated controller is processed by QEMU under the global lock, which can stall the vCPUs (guest soft lockups) under heavy IO. (+3 more)',
    );
    const clean = lines.findIndex((l) => l.startsWith('VM 101'));
    expect(lines[clean + 1]).toBe('  risk ✓ ok');
  });

  it('ends with the totals per level', () => {
    expect(text).toContain('risk: 0 critical, 1 warning, 0 unknown, 0 info, 1 ok (docs/risk-model.md)');
  });
});

describe('--explain', () => {
  const text = formatExplain(report().vms[0]!, [], { color: false });

  it('lists every reason with its evidence and fix, then what was not checked', () => {
    expect(text).toContain('  risk         ! warning');
    expect(text).toContain('    ! warning  IOTHREAD_IGNORED scsi0');
    // The evidence kind in the panel's words (src/present/evidence.ts), not the raw `config`.
    expect(text).toContain('      scsihw (configured): unset (lsi)');
    expect(text).toContain('      scsi0.iothread (runs): false');
    expect(text).toContain('      start task (log): WARN: iothread is only valid');
    expect(text).toContain('      /nodes/pve1/status (not readable): missing privilege Sys.Audit on /nodes/pve1');
    expect(text).not.toMatch(/^ {6}(config|effective|metric|missing) /m);
    expect(text).toContain('      fix: Set the SCSI controller to VirtIO SCSI single (scsihw: virtio-scsi-single)');
    expect(text).toContain('    ? unknown  NOT_CHECKED');
    expect(text).toContain('    not checked:\n      /nodes/pve1/status: missing privilege Sys.Audit on /nodes/pve1');
    const codes = [...text.matchAll(/^ {4}\S \w+ {2}(\w+)/gm)].map((m) => m[1]);
    expect(codes).toEqual(['MAIN_LOOP_IO', 'MAIN_LOOP_IO', 'IOTHREAD_IGNORED', 'NOT_CHECKED']);
  });
});
