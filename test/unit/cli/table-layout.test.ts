// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The audit table on a 120-column terminal: nothing wider than the terminal, nothing lost (every
 * cell can be read back from its wrapped lines), volume ids kept whole where they fit, and a risk
 * line that says "config OK" when only the online evidence is missing.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { visibleLength } from '../../../src/cli/output/style.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/etc-pve', import.meta.url));
const HEADERS = ['DISK', 'VOLUME', 'DEVICE', 'CONTROLLER', 'IOTHREAD', 'AIO', 'CACHE'];

async function table(args: string[], io = captureIO()) {
  const code = await runCli(['audit', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

/** Cells of every disk row (whitespace removed, so a wrapped or broken cell compares to the unwrapped one). */
function readCells(text: string): string[][] {
  const rows: string[][] = [];
  let starts: number[] | null = null;
  let current: string[][] | null = null;
  const flush = () => {
    if (current) rows.push(current.map((parts) => parts.join('').replace(/\s+/g, '')));
    current = null;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('  DISK ')) {
      flush();
      starts = HEADERS.map((h) => line.indexOf(h));
      continue;
    }
    if (!starts || !line.startsWith('  ') || line.startsWith('  risk')) {
      flush();
      if (!line.startsWith('  ')) starts = null;
      continue;
    }
    const cols = starts.map((s, i) => line.slice(s, i + 1 < starts!.length ? starts![i + 1] : undefined));
    // Lines under a row that start in the VOLUME column with a marker are notes, not cells.
    if (cols[0]!.trim() === '' && /^[✗!→]/.test(cols[1]!.trim()) && !/^→ /.test(cols.slice(2).join('').trim())) continue;
    if (cols[0]!.trim() !== '') {
      flush();
      current = cols.map((c) => [c]);
    } else if (current) {
      cols.forEach((c, i) => current![i]!.push(c));
    }
  }
  flush();
  return rows;
}

function widest(text: string): number {
  return Math.max(...text.split('\n').map(visibleLength));
}

describe('the table at 120 columns', () => {
  it('fits every line into 120 columns and loses no cell (examples/etc-pve)', async () => {
    const narrow = await table(['--config-dir', EXAMPLES]);
    const wide = await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '1000' } }));
    expect(widest(wide.out)).toBeGreaterThan(120);
    expect(widest(narrow.out)).toBeLessThanOrEqual(120);
    const cells = readCells(narrow.out);
    expect(cells.length).toBe(16);
    expect(cells).toEqual(readCells(wide.out));
    // Usual volume ids stay on one line.
    expect(narrow.out).toMatch(/^ {2}scsi0 +local-lvm:vm-100-disk-0 +scsi-hd/m);
    expect(narrow.out).toMatch(/^ {2}scsi0 +nas-cifs:102\/vm-102-disk-0\.qcow2 /m);
  });

  it('many disks with long by-id paths: within 120 columns, every path complete, no arrow left alone at a line end', async () => {
    const disks = Array.from({ length: 14 }, (_, i) => `scsi${i}: /dev/disk/by-id/ata-WDC_WD40EFRX-68WT0N0_WD-WCC4E07535${String(i).padStart(2, '0')},iothread=1,backup=0`);
    const root = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/pve1/qemu-server/300.conf': conf('nas', disks, ['scsihw: megasas']) });
    const narrow = await table(['--config-dir', root]);
    const wide = await table(['--config-dir', root], captureIO({ env: { COLUMNS: '1000' } }));
    expect(narrow.code).toBe(0);
    expect(widest(narrow.out)).toBeLessThanOrEqual(120);
    const cells = readCells(narrow.out);
    expect(cells).toHaveLength(14);
    expect(cells).toEqual(readCells(wide.out));
    expect(cells[13]![1]).toBe('/dev/disk/by-id/ata-WDC_WD40EFRX-68WT0N0_WD-WCC4E0753513');
    expect(narrow.out).not.toMatch(/→\s*$/m);
  });

  it('follows the terminal width (or COLUMNS), and keeps colour codes out of the width', async () => {
    const at80 = await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '80' } }));
    expect(widest(at80.out)).toBeLessThanOrEqual(80);
    expect(readCells(at80.out)).toEqual(readCells((await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '1000' } }))).out));
    const tty = captureIO({ isTTY: true });
    (tty as { columns?: number }).columns = 100;
    const coloured = await table(['--config-dir', EXAMPLES], tty);
    expect(coloured.out).toContain('\x1b[');
    expect(widest(coloured.out)).toBeLessThanOrEqual(100);
  });
});

/** Disks printed one fact per line: [disk, volume, device, ...] per disk, whitespace removed. */
function readStacked(text: string): string[][] {
  const rows: string[][] = [];
  let key = '';
  for (const line of text.split('\n')) {
    const fact = /^ {2}(?:(disk)|  (volume|device|controller|iothread|aio|cache)): (.*)$/.exec(line);
    if (fact) {
      key = fact[1] ?? fact[2]!;
      if (key === 'disk') rows.push([]);
      rows[rows.length - 1]!.push(fact[3]!.replace(/\s+/g, ''));
    } else if (key !== '' && /^ {6}\S/.test(line)) {
      const row = rows[rows.length - 1]!;
      row[row.length - 1] += line.replace(/\s+/g, '');
    } else {
      key = '';
    }
  }
  return rows;
}

describe('the table on a terminal too narrow for its columns (COLUMNS=60)', () => {
  it('prints one fact per line (key: value) per disk, within 60 columns, every value complete', async () => {
    const narrow = await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '60' } }));
    const wide = await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '1000' } }));
    expect(widest(narrow.out)).toBeLessThanOrEqual(60);
    expect(narrow.out).not.toContain('  DISK ');
    expect(narrow.out).toMatch(/^ {2}disk: scsi0\n {4}volume: local-lvm:vm-100-disk-0\n {4}device: scsi-hd\n {4}controller: lsi \(scsihw0\)$/m);
    expect(readStacked(narrow.out)).toEqual(readCells(wide.out));
  });
});

describe('the risk line of a VM whose config is fine, audited offline', () => {
  it('keeps the level unknown but says the config is OK and only the online evidence was not checked', async () => {
    const { out } = await table(['--config-dir', EXAMPLES, '--vmid', '202']);
    const risk = out.split('\n').slice(1, 3).join(' ').replace(/\s+/g, ' ').trim();
    expect(risk).toBe(
      "risk ? unknown config OK; not checked: QMP timeouts in the node's syslog, vCPU overcommit on the node, backup jobs for fleecing [offline audit (files only): needs the PVE API]",
    );
    const json = await table(['--config-dir', EXAMPLES, '--vmid', '202', '--format', 'json']);
    expect(JSON.parse(json.out).vms[0].risk.level).toBe('unknown');
  });

  it('names the hints that are not problems', async () => {
    const { out } = await table(['--config-dir', EXAMPLES, '--vmid', '102']);
    expect(out).toMatch(/risk \? unknown {2}config OK \(1 hint: MAIN_LOOP_IO scsi0\); not checked:/);
  });

  it('does not say "config OK" when a fact of the config itself is open (storage type unknown)', async () => {
    const root = makeTree({ '101.conf': conf('x', ['scsi0: san:vm-101-disk-0,iothread=1'], ['scsihw: virtio-scsi-single']) });
    const { out } = await table(['--conf', `${root}/101.conf`]);
    expect(out).toMatch(/risk \? unknown {2}NOT_CHECKED: Could not check scsi0 fully: the type of storage 'san' is unknown/);
    expect(out).not.toContain('config OK');
  });
});

describe('the risk line of a VM with a broken config line but no dataplane risk', () => {
  it('does not call the config OK: it points to the config errors', async () => {
    const root = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/pve1/qemu-server/101.conf': conf('broken', ['scsi0: local-lvm:vm-101-disk-0,iothread=1', 'scsi1: local-lvm:vm-101-disk-1,aio=banana'], ['scsihw: virtio-scsi-single']),
    });
    const { out } = await table(['--config-dir', root], captureIO({ env: { COLUMNS: '1000' } }));
    expect(out).not.toContain('config OK');
    expect(out).toMatch(/risk \? unknown {2}no dataplane risk found, but 1 config error \(on stderr\); not checked: /);
  });
});

describe('a pathological config line', () => {
  // Its speed (a quadratic layout hung here) is measured in bench/table-layout.ts.
  it('a 200k-character drive value is laid out within the width', async () => {
    const root = makeTree({ 'storage.cfg': STORAGE_CFG, 'nodes/pve1/qemu-server/101.conf': conf('huge', [`scsi0: local-lvm:vm-101-disk-0,${'x'.repeat(200_000)}`]) });
    const { code, out } = await table(['--config-dir', root]);
    expect(code).toBe(0);
    expect(widest(out)).toBeLessThanOrEqual(120);
  });
});

describe('a wrapped VM header', () => {
  it('keeps the · separator at the end of a line, never at the start of the next', async () => {
    const { out } = await table(['--config-dir', EXAMPLES], captureIO({ env: { COLUMNS: '100' } }));
    expect(out).toMatch(/^VM 201 tmpl-debian .* ·\n {4}\S/m);
    expect(out).not.toMatch(/^ +· /m);
  });
});

describe('a cell of one word longer than its column', () => {
  it('breaks into the lines the word wrap gives, plain and coloured, at every width', async () => {
    const { cellLines, wrapPieces } = await import('../../../src/cli/output/layout.js');
    const { makeStyle } = await import('../../../src/cli/output/style.js');
    const marked = makeStyle(true).marked;
    const words = ['nas:102/vm-102-disk-1.qcow2', '/dev/disk/by-id/ata-VERY_LONG_MODEL_NAME_1234567890-part1', 'x'.repeat(50), 'a:b_c-d.e/f=g,h'];
    for (const word of words) {
      for (let width = 1; width <= word.length + 1; width++) {
        expect(cellLines([{ text: word }], width)).toEqual(wrapPieces([{ text: word }], width));
        expect(cellLines([{ text: word, style: marked }], width)).toEqual(wrapPieces([{ text: word, style: marked }], width));
      }
    }
  });
});
