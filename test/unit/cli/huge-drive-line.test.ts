// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A drive line with 64,000 comma-separated parts (found by fuzzing): the table used to crash
 * (spreading huge arrays into push(...)/Math.max(...), exit 70, healthy VMs lost with it) and JSON/CSV
 * grew a 565 KB file into megabytes (one issue per bad part, repeated in the disk's notes). One bad
 * value now costs a bounded amount of output, and the line is named.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { captureIO } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'dp-huge-drive-'));
const parts = Array.from({ length: 64_000 }, (_, i) => `x${i}=1`).join(',');
writeFileSync(join(dir, '100.conf'), `memory: 2048\nostype: l26\nscsihw: lsi\nscsi0: local-lvm:vm-100-disk-0,${parts},size=8G\n`);
writeFileSync(join(dir, '101.conf'), 'memory: 2048\nostype: l26\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-101-disk-0,iothread=1,size=8G\n');
writeFileSync(join(dir, 'storage.cfg'), 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent images\n');
const args = ['audit', '--conf', join(dir, '100.conf'), join(dir, '101.conf'), '--storage-cfg', join(dir, 'storage.cfg'), '--format'];

describe('a drive line with 64,000 comma-separated parts', () => {
  it.each(['table', 'json', 'csv'])('--format %s: exit 0, both VMs reported, output bounded, the line named once with the rest counted', async (format) => {
    const io = captureIO();
    expect(await runCli([...args, format], io)).toBe(0);
    expect(io.out()).toContain('101');
    expect(io.out().length).toBeLessThan(50_000);
    expect(io.err().length).toBeLessThan(10_000);
    expect(io.err()).toContain('100.conf:4: error: scsi0: 63995 more problems in this value not listed (64002 comma-separated parts, 564921 characters)');
  }, 60_000);
});
