// SPDX-License-Identifier: AGPL-3.0-or-later
/** The plan / apply / rollback commands as a user runs them, against the simulator. */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import type { CliIO } from '../../../src/cli/io.js';
import { LINUX_LSI } from './fleet.js';
import { type SimEnv, simWith } from './helpers.js';

function capture(env: Record<string, string | undefined> = {}): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTTY: false,
    env,
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
  };
  return io;
}

describe('plan / apply / rollback commands', () => {
  let env: SimEnv;
  let base: string[];
  let stateHome: string;

  beforeAll(async () => {
    env = await simWith([
      { vmid: 501, text: LINUX_LSI(501), status: 'stopped' },
      { vmid: 502, text: LINUX_LSI(502), status: 'stopped' },
      { vmid: 503, text: LINUX_LSI(503).replace('memory: 2048\n', 'lock: migrate\nmemory: 2048\n'), status: 'stopped' },
    ]);
    base = ['--pve', env.sim.url, '--token-file', join(env.dir, 'token')];
    stateHome = join(env.dir, 'state');
  });
  afterAll(() => env?.close());

  it('plan requires a VM selection', async () => {
    const io = capture();
    expect(await runCli(['plan', ...base], io)).toBe(2);
    expect(io.err).toContain('exactly one of --node NODE, --vmid 101,102 or --all');
  });

  it('the apply command plan suggests keeps the --token-file and --fingerprint given, so it runs as shown', async () => {
    const io = capture();
    const out = join(env.dir, 'plan-suggest.json');
    const fp = env.sim.fingerprint ?? 'AA:BB';
    const code = await runCli(['plan', ...base, ...(env.sim.fingerprint ? ['--fingerprint', fp] : []), '--vmid', '501', '--output', out], io);
    expect(code).toBe(0);
    const want = `pve-dataplane apply --pve ${env.sim.url} --token-file ${join(env.dir, 'token')}${env.sim.fingerprint ? ` --fingerprint ${fp}` : ''} --from-plan ${out} --yes`;
    expect(io.err).toContain(`apply it with: ${want}`);
  });

  it('plan prints a PVE-style diff and writes the JSON plan; it never writes to PVE', async () => {
    const before = env.text(501);
    const io = capture();
    const out = join(env.dir, 'plan.json');
    // An existing world-readable file is narrowed to the owner too.
    writeFileSync(out, '', { mode: 0o644 });
    expect(await runCli(['plan', ...base, '--vmid', '501,502,503', '--output', out], io)).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(io.out).toContain('VM 501 web-501 (pve1, stopped)  one write, no cold start needed');
    expect(io.out).toContain('  scsihw  (not set)\n        → virtio-scsi-single');
    expect(io.out).toMatch(/blocked VM_LOCKED: VM is locked \(migrate\)/);
    expect(io.out).toContain('3 VMs: 2 to convert (0 need a cold start), 1 blocked, 0 already done. aio=threads.');
    const plan = JSON.parse(readFileSync(out, 'utf8'));
    expect(plan).toMatchObject({ version: 1, aio: 'threads' });
    expect(plan.vms.map((v: { vmid: number }) => v.vmid)).toEqual([501, 502, 503]);
    expect(plan.vms[0].changes[0]).toEqual({ key: 'scsihw', before: null, after: 'virtio-scsi-single', step: 1 });
    expect(env.text(501)).toBe(before);
  });

  it('plan --format json prints the same plan shape', async () => {
    const io = capture();
    expect(await runCli(['plan', ...base, '--vmid', '501', '--format', 'json', '--aio', 'io_uring'], io)).toBe(0);
    const plan = JSON.parse(io.out);
    expect(plan.aio).toBe('io_uring');
    expect(plan.vms[0]).toMatchObject({ vmid: 501, node: 'pve1', blocked: [], coldStartNeeded: false });
    expect(plan.vms[0].digest).toMatch(/^[0-9a-f]{40}$/);
  });

  it('apply is refused in read-only mode and without --yes', async () => {
    const planFile = join(env.dir, 'plan.json');
    const ro = capture({ DP_READ_ONLY: '1' });
    expect(await runCli(['apply', ...base, '--from-plan', planFile, '--yes'], ro)).toBe(3);
    expect(ro.err).toContain('apply refused: read-only mode (DP_READ_ONLY=1)');
    const flag = capture();
    expect(await runCli(['apply', ...base, '--from-plan', planFile, '--yes', '--read-only'], flag)).toBe(3);
    const noYes = capture();
    expect(await runCli(['apply', ...base, '--from-plan', planFile], noYes)).toBe(2);
    expect(noYes.err).toContain('apply would change 2 VMs (501, 502) with --reboot never; re-run with --yes');
    expect(env.text(501)).not.toContain('virtio-scsi-single');
  });

  it('apply with a token that may not write: exit 1, the privileges named once, no journal, nothing written', async () => {
    const planFile = join(env.dir, 'plan.json');
    const roToken = join(env.dir, 'ro-token');
    writeFileSync(roToken, `${env.sim.auditToken}\n`);
    const before = env.text(501);
    const io = capture({ XDG_STATE_HOME: join(env.dir, 'state-ro') });
    expect(await runCli(['apply', '--pve', env.sim.url, '--token-file', roToken, '--from-plan', planFile, '--yes'], io)).toBe(1);
    expect(io.err).toContain('the token lacks VM.Config.Disk on /vms/501, /vms/502; VM.Config.HWType on /vms/501, /vms/502');
    expect(io.err.match(/VM\.Config\.Disk/g)).toHaveLength(1);
    expect(io.err).not.toContain('journal:');
    expect(io.out).toBe('');
    expect(existsSync(join(env.dir, 'state-ro'))).toBe(false);
    expect(env.text(501)).toBe(before);
  });

  it('apply with a token PVE refuses: exit 1 before any journal', async () => {
    const bad = join(env.dir, 'bad-token');
    writeFileSync(bad, 'root@pam!nope=00000000-0000-0000-0000-000000000000\n');
    const io = capture({ XDG_STATE_HOME: join(env.dir, 'state-bad') });
    expect(await runCli(['apply', '--pve', env.sim.url, '--token-file', bad, '--from-plan', join(env.dir, 'plan.json'), '--yes'], io)).toBe(1);
    expect(io.err).toContain('the API token was refused');
    expect(io.err).not.toContain('journal:');
  });

  it('apply prints the journal (under the state dir by default) and the summary', async () => {
    const io = capture({ XDG_STATE_HOME: stateHome });
    expect(await runCli(['apply', ...base, '--from-plan', join(env.dir, 'plan.json'), '--yes'], io)).toBe(0);
    const journal = /^journal: (.*)$/m.exec(io.err)![1]!;
    expect(journal.startsWith(join(stateHome, 'pve-dataplane', 'journals'))).toBe(true);
    expect(existsSync(journal)).toBe(true);
    expect(io.out).toContain('converted to VirtIO SCSI single: 2\n  501 (pve1)\n  502 (pve2)\n');
    expect(io.out).toContain('skipped: 1\n  503 (pve3): VM_LOCKED: VM is locked (migrate)');
    expect(io.out).toContain(`journal: ${journal}`);
    expect(env.text(501)).toContain('scsihw: virtio-scsi-single');
  });

  it('rollback is refused in read-only mode, then restores from the journal', async () => {
    const journals = readdirSync(join(stateHome, 'pve-dataplane', 'journals'));
    expect(journals).toHaveLength(1);
    const path = join(stateHome, 'pve-dataplane', 'journals', journals[0]!);
    const ro = capture({ DP_READ_ONLY: 'true' });
    expect(await runCli(['rollback', ...base, '--journal', path, '--yes'], ro)).toBe(3);
    // 'plan' has nothing to say about a rollback.
    expect(ro.err).toContain('rollback refused: read-only mode (DP_READ_ONLY=true); nothing was restored');
    expect(ro.err).not.toContain("'plan' shows");
    const io = capture();
    expect(await runCli(['rollback', ...base, '--journal', path, '--vmid', '501', '--yes'], io)).toBe(0);
    expect(io.out).toMatch(/rolled back: 1\n  501 \(pve1\): config file byte-identical to before the first apply/);
    expect(env.text(501)).toBe(LINUX_LSI(501));
    expect(env.text(502)).toContain('scsihw: virtio-scsi-single');
  });

  describe('bad inputs name the input and what to do, never a stack trace', () => {
    const noTrace = (err: string): void => expect(err).not.toMatch(/\n\s+at /);

    it('an unknown --override code is refused, listing the codes that can be overridden', async () => {
      const io = capture();
      expect(await runCli(['plan', ...base, '--all', '--override', 'PASSTROUGH_ROOT_ONLY'], io)).toBe(2);
      expect(io.err).toContain("option '--override <codes...>' argument 'PASSTROUGH_ROOT_ONLY' is invalid. PASSTROUGH_ROOT_ONLY: no such gate code");
      expect(io.err).toContain('PASSTHROUGH_ROOT_ONLY, WINDOWS_BOOT_CONTROLLER, CONVERT_BOOT_DISK');
      noTrace(io.err);
    });

    it('plan --vmid with a VMID the cluster does not have exits 1 naming it, after planning the others', async () => {
      const io = capture();
      expect(await runCli(['plan', ...base, '--vmid', '501,999'], io)).toBe(1);
      expect(io.out).toContain('VM 501 web-501');
      expect(io.err).toContain('--vmid 999: not planned');
      noTrace(io.err);
    });

    it('a gate that cannot be overridden is refused by name', async () => {
      const io = capture();
      expect(await runCli(['plan', ...base, '--all', '--override', 'VM_LOCKED'], io)).toBe(2);
      expect(io.err).toContain("option '--override <codes...>' argument 'VM_LOCKED' is invalid. VM_LOCKED: this gate cannot be overridden");
    });

    it('a --journal that is not a journal is refused by rollback and never appended to by apply', async () => {
      const notJournal = join(env.dir, 'notes.txt');
      const text = '{"url":"https://127.0.0.1:8006"}\nsome notes\n';
      writeFileSync(notJournal, text);
      const rb = capture();
      expect(await runCli(['rollback', ...base, '--journal', notJournal, '--yes'], rb)).toBe(1);
      expect(rb.err).toContain(`--journal ${notJournal} is not a pve-dataplane journal`);
      noTrace(rb.err);
      const ap = capture({ XDG_STATE_HOME: stateHome });
      expect(await runCli(['apply', ...base, '--from-plan', join(env.dir, 'plan.json'), '--journal', notJournal, '--yes'], ap)).toBe(1);
      expect(ap.err).toContain(`--journal ${notJournal} is not a pve-dataplane journal`);
      expect(readFileSync(notJournal, 'utf8')).toBe(text);
    });

    it('a missing or non-JSON plan file, --concurrency 0 and --reboot sometimes name the input', async () => {
      const missing = capture();
      expect(await runCli(['apply', ...base, '--from-plan', join(env.dir, 'nope.json'), '--yes'], missing)).toBe(1);
      expect(missing.err).toContain('nope.json');
      const notJson = join(env.dir, 'plan.txt');
      writeFileSync(notJson, 'VM 501 web-501 (pve1, stopped)\n');
      const bad = capture();
      expect(await runCli(['apply', ...base, '--from-plan', notJson, '--yes'], bad)).toBe(1);
      expect(bad.err).toContain(`${notJson} is not JSON`);
      const conc = capture();
      expect(await runCli(['apply', ...base, '--from-plan', join(env.dir, 'plan.json'), '--concurrency', '0', '--yes'], conc)).toBe(2);
      expect(conc.err).toContain("option '--concurrency <n>' argument '0' is invalid. expected a whole number from 1 to 64");
      const reboot = capture();
      expect(await runCli(['apply', ...base, '--from-plan', join(env.dir, 'plan.json'), '--reboot', 'sometimes', '--yes'], reboot)).toBe(2);
      expect(reboot.err).toMatch(/'sometimes'/);
      for (const io of [missing, bad, conc, reboot]) noTrace(io.err);
    });
  });
});
