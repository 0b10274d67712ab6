// SPDX-License-Identifier: AGPL-3.0-or-later
/** The built binary, spawned as a user runs it: `npm run build` then `node bin/pve-dataplane.js audit …`. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEtcPveTree } from '../../../bench/lib/etc-pve-tree.js';
import type { AuditReport } from '../../../src/analysis/types.js';
import { SHARE_MIN_VMS, startSecondShare } from '../../../src/cli/audit-share.js';
import { auditDiskFacts } from './cfg2cmd-reduce.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/pve-dataplane.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

describe('bin/pve-dataplane.js', () => {
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
      auditDiskFacts(report.vms[0]!),
    ).toEqual(expected.disks);
  });

  it('exits 2 on a usage error and 1 when nothing could be audited', () => {
    expect(run(['audit', '--format', 'yaml', '--config-dir', 'examples/etc-pve']).code).toBe(2);
    const missing = run(['audit', '--conf', 'no/such/100.conf']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no/such/100.conf: error: cannot read: no such file or directory');
  });

  it('writes the same bytes to a file (`> out.json`) as to a pipe, `→` and all', () => {
    const args = ['audit', '--config-dir', 'examples/etc-pve'];
    for (const format of ['json', 'table']) {
      const piped = run([...args, '--format', format]);
      const file = join(mkdtempSync(join(tmpdir(), 'dp-out-')), `out.${format}`);
      const r = spawnSync('sh', ['-c', `exec node bin/pve-dataplane.js ${args.join(' ')} --format ${format} > '${file}'`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(piped.out);
      expect(piped.out).toContain('→');
      rmSync(file);
    }
  });

  // Both go to a file through the writer's buffer (src/cli/io.ts): the config issues are printed
  // after the JSON document (its VMs are audited as they are written) and before the table.
  for (const { format, vms, issues } of [
    { format: 'json', vms: 60, issues: 'after the document' },
    { format: 'table', vms: 250, issues: 'before the table' },
  ] as const) {
    it(`${format} output larger than its write buffer, with stderr into the same file (\`> out 2>&1\`): the bytes of a pipe, the config issues ${issues}`, () => {
      const root = writeEtcPveTree(vms);
      try {
        // A line PVE drops: a config issue on stderr.
        const conf = join(root, 'nodes/pve1/qemu-server/100.conf');
        writeFileSync(conf, `${readFileSync(conf, 'utf8')}bogus line without a colon\n`);
        const args = ['audit', '--config-dir', root, '--format', format];
        const piped = run(args);
        expect(piped.code).toBe(0);
        expect(piped.err).toContain('100.conf');
        expect(piped.out.length).toBeGreaterThan(300_000);
        const file = join(root, 'out');
        const r = spawnSync('sh', ['-c', `exec node bin/pve-dataplane.js ${args.join(' ')} > '${file}' 2>&1`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
        expect(r.status).toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(format === 'json' ? piped.out + piped.err : piped.err + piped.out);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

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

// Each test spawns up to five audits of a few thousand VMs one after the other: 10 s at load 9 on
// two cores, and it grows with the load; 30 s (vitest.config.ts) is not enough on a busier machine.
describe('the offline JSON audit of a large tree on two threads', { timeout: 120_000 }, () => {
  let tree = '';
  beforeAll(() => {
    tree = writeEtcPveTree(SHARE_MIN_VMS + 100);
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  function audit(format: string, env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, ['bin/pve-dataplane.js', 'audit', '--config-dir', tree, '--format', format], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '100', ...env },
      maxBuffer: 1 << 30,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('writes the JSON a single thread writes, byte for byte (and the same table)', () => {
    for (const format of ['json', 'table']) {
      const one = audit(format, { PVE_DATAPLANE_THREADS: '1' });
      expect(one.code).toBe(0);
      expect(audit(format, { PVE_DATAPLANE_THREADS: '2' })).toEqual(one);
    }
    expect(JSON.parse(audit('json').out).vms).toHaveLength(SHARE_MIN_VMS + 100);
  });

  it('PVE_DATAPLANE_THREADS other than 1 or 2 is a usage error naming the variable, not a silent default', () => {
    const r = audit('json', { PVE_DATAPLANE_THREADS: 'yes' });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('PVE_DATAPLANE_THREADS=yes: expected 1 (one audit thread) or 2 (two)');
  });

  it('the worker audits the upper VMIDs: its JSON lines are the end of the single-thread document', async () => {
    const whole = audit('json', { PVE_DATAPLANE_THREADS: '1' }).out.split('\n');
    const share = startSecondShare({ configDir: tree, options: {} }, { PVE_DATAPLANE_THREADS: '2' }, new URL('../../../dist/audit-worker.js', import.meta.url));
    expect(share).not.toBeNull();
    const prepared = await share!.prepared();
    const bytes: Uint8Array[] = [];
    for (let m = await share!.next(); m.kind !== 'done'; m = await share!.next()) if (m.kind === 'json') bytes.push(m.bytes);
    const lines = Buffer.concat(bytes).toString('utf8').trimEnd().split('\n');
    // `whole`: head (2 lines), the VMs, then the rest of the document.
    const vmLines = whole.slice(2, 2 + SHARE_MIN_VMS + 100);
    expect(lines).toHaveLength(prepared.nodes.length);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines).toEqual(vmLines.slice(vmLines.length - lines.length));
    expect(share!.own.to).toBe((JSON.parse(lines[0]!.replace(/,$/, '')) as { vmid: number }).vmid);
  });

  it('a config that cannot be read in one share: the same errors, in the same order, as one thread', () => {
    // VMIDs start at 100: 100 + SHARE_MIN_VMS is in the worker's share, 101 in the main thread's.
    writeFileSync(join(tree, 'nodes', 'pve2', 'qemu-server', `${100 + SHARE_MIN_VMS + 1}.conf`), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(tree, 'nodes', 'pve2', 'qemu-server', '101.conf'), Buffer.from([0, 1, 2, 3]));
    for (const format of ['json', 'table']) {
      const one = audit(format, { PVE_DATAPLANE_THREADS: '1' });
      expect(one.err).toContain('not a VM config: binary data');
      expect(audit(format, { PVE_DATAPLANE_THREADS: '2' })).toEqual(one);
    }
  });
});
