// SPDX-License-Identifier: AGPL-3.0-or-later
/** The built binary, spawned as a user runs it: `npm run build` then `node bin/pve-dataplane.js audit …`. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../../src/analysis/types.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/pve-dataplane.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/pve-dataplane.js', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  });

  it('audits the sample tree (the README command)', () => {
    // npm start is the panel; a new user finds the offline audit of the sample tree in the README.
    expect(readFileSync(`${ROOT}README.md`, 'utf8')).toContain('npx pve-dataplane audit --config-dir examples/etc-pve\n');
    expect(readFileSync(`${ROOT}examples/etc-pve/README.md`, 'utf8')).not.toMatch(/npm start +# = .*audit/);
    const { code, out } = run(['audit', '--config-dir', 'examples/etc-pve']);
    expect(code).toBe(0);
    expect(out).toMatch(/^VM 100 db1 · node pve1/m);
  });

  it('reports a cfg2cmd fixture in JSON exactly like its expected facts', () => {
    const dir = 'test/fixtures/cfg2cmd/';
    const { code, out } = run(['audit', '--conf', `${dir}aio.conf`, '--storage-cfg', `${dir}storage.cfg`, '--format', 'json']);
    expect(code).toBe(0);
    const expected = JSON.parse(readFileSync(`${ROOT}${dir}aio.expected.json`, 'utf8')) as { disks: unknown[] };
    const report = JSON.parse(out) as AuditReport;
    expect(
      report.vms[0]!.disks.map((d) => ({
        key: d.key,
        qemuDevice: d.qemuDevice,
        controller: d.controller,
        iothread: d.iothread.effective,
        aio: d.aio.effective,
        cacheDirect: d.cacheDirect,
      })),
    ).toEqual(expected.disks);
  });

  it('exits 2 on a usage error and 1 when nothing could be audited', () => {
    expect(run(['audit', '--format', 'yaml', '--config-dir', 'examples/etc-pve']).code).toBe(2);
    const missing = run(['audit', '--conf', 'no/such/100.conf']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no/such/100.conf: error: cannot read: no such file or directory');
  });

  it('stops quietly when the reader of its output goes away (300 kB of JSON | head -c 1)', () => {
    const r = spawnSync('sh', ['-c', 'node bin/pve-dataplane.js audit --conf test/fixtures/configs/*.conf --storage-cfg test/fixtures/cfg2cmd/storage.cfg --format json | head -c 1 >/dev/null'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|internal error/);
  });
});
