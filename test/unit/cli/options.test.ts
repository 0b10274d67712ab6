// SPDX-License-Identifier: AGPL-3.0-or-later
// The option kinds of src/cli/options.ts: one boolean reader for flags and environment variables,
// and the read-only switch honoured the same way by serve, demo, apply and rollback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { parseBoolean } from '../../../src/cli/options.js';
import { TOKEN, rawRequest, recordingUpstream } from '../../shim/helpers.js';
import { captureIO } from './capture.js';

describe('parseBoolean', () => {
  it.each(['1', 'true', 'yes', 'on', 'TRUE', 'Yes', 'ON', ' on '])('%s is true', (word) => expect(parseBoolean(word)).toBe(true));
  it.each(['0', 'false', 'no', 'off', 'FALSE', 'No', 'OFF'])('%s is false', (word) => expect(parseBoolean(word)).toBe(false));
  it.each(['maybe', '', '2', 'y', 'enabled'])("'%s' is refused, never read as false", (word) => expect(() => parseBoolean(word)).toThrow(/expected 1\/true\/yes\/on/));
});

const panelDir = mkdtempSync(join(tmpdir(), 'dp-panel-'));
writeFileSync(join(panelDir, 'index.html'), '<!doctype html><dp-app></dp-app>');

/** Runs a long-running command (serve, demo) until `stop()`; `url()` waits for the panel URL it prints. */
function background(argv: string[], env: Record<string, string>) {
  let stop!: () => void;
  const io = { ...captureIO({ env }), stopped: new Promise<void>((r) => (stop = r)) };
  const exit = runCli(argv, io);
  const url = async (): Promise<string> => {
    for (let i = 0; i < 600; i++) {
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(io.out());
      if (m) return m[1]!;
      const early = await Promise.race([exit, new Promise((r) => setTimeout(r, 50, 'waiting'))]);
      if (early !== 'waiting') throw new Error(`exited ${String(early)}: ${io.err()}`);
    }
    throw new Error(`no panel URL after 30 s: ${io.err()}`);
  };
  return { io, url, stop: async () => (stop(), exit) };
}

/** A write the panel would send, refused by the shim before PVE in read-only mode. */
async function write(url: string) {
  return rawRequest(url, 'POST', '/api2/json/nodes/pve1/qemu/100/config', { 'content-type': 'application/x-www-form-urlencoded' }, 'scsihw=virtio-scsi-single');
}

describe('DP_READ_ONLY=yes/on/TRUE makes serve refuse writes, like apply', () => {
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  beforeAll(async () => {
    upstream = await recordingUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  for (const value of ['yes', 'on', 'TRUE']) {
    it(`serve with DP_READ_ONLY=${value}: read-only, the write never reaches PVE`, async () => {
      const run = background(['serve', '--pve', upstream.url, '--port', '0', '--panel-dir', panelDir], { PVE_TOKEN: TOKEN, DP_READ_ONLY: value });
      const url = await run.url();
      try {
        expect(run.io.out()).toContain('(read-only: writes are refused)');
        expect(JSON.parse((await rawRequest(url, 'GET', '/dp/config')).body)).toMatchObject({ readOnly: true });
        const res = await write(url);
        expect(res.status).toBe(403);
        expect(res.body).toContain('DP_AUDIT_READ_ONLY');
        expect(upstream.seen.filter((s) => s.method !== 'GET')).toEqual([]);
      } finally {
        expect(await run.stop()).toBe(0);
      }
    });
  }

  it('serve with DP_READ_ONLY=off is writable (the shim then asks for its CSRF token, not read-only)', async () => {
    const run = background(['serve', '--pve', upstream.url, '--port', '0', '--panel-dir', panelDir], { PVE_TOKEN: TOKEN, DP_READ_ONLY: 'off' });
    const url = await run.url();
    try {
      expect(JSON.parse((await rawRequest(url, 'GET', '/dp/config')).body)).toMatchObject({ readOnly: false });
      expect((await write(url)).body).not.toContain('DP_AUDIT_READ_ONLY');
    } finally {
      await run.stop();
    }
  });

  it('demo with DP_READ_ONLY=on refuses writes', async () => {
    const run = background(['demo', '--port', '0', '--vms', '2', '--panel-dir', panelDir], { DP_READ_ONLY: 'on' });
    const url = await run.url();
    try {
      expect(run.io.err()).toContain('read-only: writes are refused by the shim');
      const res = await write(url);
      expect(res.status).toBe(403);
      expect(res.body).toContain('DP_AUDIT_READ_ONLY');
    } finally {
      await run.stop();
    }
  });
});

describe('DP_READ_ONLY=maybe is a usage error naming the variable, never "writable"', () => {
  const cases: string[][] = [
    ['serve', '--pve', 'http://127.0.0.1:1', '--port', '0', '--panel-dir', panelDir],
    ['demo', '--port', '0', '--vms', '2', '--panel-dir', panelDir],
    ['apply', '--pve', 'http://127.0.0.1:1', '--from-plan', '/nonexistent/plan.json', '--yes'],
    ['rollback', '--pve', 'http://127.0.0.1:1', '--journal', '/nonexistent/journal', '--yes'],
  ];
  for (const argv of cases) {
    it(argv[0]!, async () => {
      const io = captureIO({ env: { PVE_TOKEN: TOKEN, DP_READ_ONLY: 'maybe' } });
      expect(await runCli(argv, io)).toBe(2);
      expect(io.err()).toMatch(/value 'maybe' from env 'DP_READ_ONLY' is invalid\. expected 1\/true\/yes\/on or 0\/false\/no\/off/);
    });
  }
});

describe('apply and rollback name where read-only came from', () => {
  it.each([
    [{ DP_READ_ONLY: 'Yes' }, [], 'apply refused: read-only mode (DP_READ_ONLY=Yes)'],
    [{}, ['--read-only'], 'apply refused: read-only mode (--read-only)'],
  ])('%o %o', async (env, extra, message) => {
    const io = captureIO({ env: { PVE_TOKEN: TOKEN, ...env } });
    expect(await runCli(['apply', '--pve', 'http://127.0.0.1:1', '--from-plan', '/nonexistent/plan.json', '--yes', ...extra], io)).toBe(3);
    expect(io.err()).toContain(message);
  });

  it('the flag wins over the variable (--read-only with DP_READ_ONLY=0 refuses)', async () => {
    const io = captureIO({ env: { PVE_TOKEN: TOKEN, DP_READ_ONLY: '0' } });
    expect(await runCli(['rollback', '--journal', '/nonexistent/j', '--read-only', '--yes'], io)).toBe(3);
  });
});

describe('option values are checked before anything runs (exit 2, naming the option)', () => {
  it.each([
    [['plan', '--all', '--concurrency', '0'], /option '--concurrency <n>' argument '0' is invalid\. expected a whole number from 1 to 64/],
    [['apply', '--vmid', '10', '--from-plan', 'x'], /option '--vmid <list>' argument '10' is invalid\. '10' is not a VMID/],
    [['apply', '--shutdown-timeout', '1m', '--from-plan', 'x'], /'--shutdown-timeout <sec>' argument '1m' is invalid/],
    [['simulate', '--latency-ms', 'fast'], /'--latency-ms <ms>' argument 'fast' is invalid\. expected a number >= 0/],
    [['plan', '--all', '--override', 'NOPE'], /NOPE: no such gate code/],
  ])('%o', async (argv, message) => {
    const io = captureIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.err()).toMatch(message);
  });

  it('PVE_URL from the environment reaches the command like --pve', async () => {
    const io = captureIO({ env: { PVE_URL: 'http://127.0.0.1:1', PVE_TOKEN: TOKEN, DP_READ_ONLY: '1' } });
    expect(await runCli(['apply', '--from-plan', 'x', '--yes'], io)).toBe(3);
  });
});
