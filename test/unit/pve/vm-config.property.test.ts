// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Generated config files, hand-edit style: reading never throws and never loses a line without
 * saying so, and PVE's writer is stable (what it wrote reads back to the same text).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseVmConfig, printVmConfig, type ConfigSection } from '../../../src/pve/index.js';

const key = fc.constantFrom('cores', 'onboot', 'name', 'scsi0', 'sata1', 'ide2', 'cdrom', 'unused0', 'smp', 'sockets', 'net0', 'frob', 'snaptime', 'args', 'boot');
const valueChar = fc.constantFrom(...'abcXYZ019 ,=:%;!/-_.\té'.split(''), '%3A', '%C3%B6', 'yes', 'local:vm-100-disk-0', 'cloudinit');
const value = fc.array(valueChar, { maxLength: 8 }).map((a) => a.join(''));
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, fc.constantFrom(':', ': ', ':  '), value).map(([k, s, v]) => `${k}${s}${v}`) },
  { weight: 2, arbitrary: value.map((v) => `#${v}`) },
  // A blank `description:` is not stable even in PVE (read as ' ', written '# ', read as '').
  { weight: 1, arbitrary: value.map((v) => `description: d${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('[PENDING]', '[pending]', '[special:cloudinit]', '[snap1]', '[Snap-2]', '[bad one]', '[special:x]') },
  { weight: 1, arbitrary: fc.constantFrom('delete: cores;!scsi0 net0', 'delete: ', '', '   ', 'garbage line', ' indented: 1') },
);
const configText = fc.array(line, { maxLength: 25 }).map((lines) => lines.join('\n'));

describe('generated config files', () => {
  it('read without throwing, report every line they do not keep, and print stably', () => {
    fc.assert(
      fc.property(configText, fc.boolean(), (raw, withNewline) => {
        const text = withNewline ? `${raw}\n` : raw;
        const file = parseVmConfig(text, { vmid: 100 });
        const sections: ConfigSection[] = [file.main, ...(file.pending ? [file.pending] : []), ...file.special, ...file.snapshots];
        const kept = new Set<number>();
        for (const s of sections) for (const e of s.entries.values()) if (e.line !== undefined) kept.add(e.line);
        for (const i of file.issues) if (i.line !== undefined) kept.add(i.line);
        text.split('\n').forEach((l, idx) => {
          if (/^[ \t]*$/.test(l) || l.startsWith('#') || l.startsWith('[') || l.startsWith('delete:') || l.startsWith('description:')) return;
          // A line of an unknown section is kept in unknownSections.
          if (file.unknownSections?.some((u) => u.lines.includes(l))) return;
          expect(kept.has(idx + 1), `line ${idx + 1} '${l}' of:\n${text}`).toBe(true);
        });
        const once = printVmConfig(file);
        // Quotes are stripped once per read by PVE itself, so only compare quote-free output.
        if (!once.includes('"')) expect(printVmConfig(parseVmConfig(once, { vmid: 100 }))).toBe(once);
      }),
      { numRuns: Number(process.env.PVE_CONFIG_RUNS ?? 3000) },
    );
  });
});
