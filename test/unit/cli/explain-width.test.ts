// SPDX-License-Identifier: AGPL-3.0-or-later
/** `--explain` on a 120-column terminal: long notes, messages and fixes wrap under their label; no word is lost. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { visibleLength } from '../../../src/cli/output/style.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

describe('audit --explain at 120 columns', () => {
  const root = makeTree({
    'storage.cfg': STORAGE_CFG,
    'nodes/pve1/qemu-server/101.conf': conf('malformed', ['scsi0: local-lvm:vm-101-disk-0,iothread=1,aio=banana', 'virtio0: nosuch:vm-101-disk-3,iothread=1'], ['scsihw: virtio-scsi-single']),
  });

  it('keeps every line within the width, with the same words as the unwrapped text', async () => {
    const narrow = captureIO();
    const wide = captureIO({ env: { COLUMNS: '1000' } });
    expect(await runCli(['audit', '--config-dir', root, '--explain', '101'], narrow)).toBe(0);
    await runCli(['audit', '--config-dir', root, '--explain', '101'], wide);
    const widest = (t: string) => Math.max(...t.split('\n').map(visibleLength));
    expect(widest(wide.out())).toBeGreaterThan(120);
    expect(widest(narrow.out())).toBeLessThanOrEqual(120);
    const words = (t: string) => t.split(/\s+/).filter(Boolean);
    expect(words(narrow.out())).toEqual(words(wide.out()));
    expect(narrow.out()).toContain('  status       unknown (offline: the files do not say whether it runs)\n');
    // A wrapped note continues under its value, not under the label.
    expect(narrow.out()).toMatch(/^ {4}note {9}not given to QEMU: scsi0: aio: value 'banana'.*\n {17}\S/m);
  });
});
