// SPDX-License-Identifier: AGPL-3.0-or-later
// `pve-dataplane serve` / `demo`: options are checked before anything listens (exit 2 with a
// message naming the option), and a started shim serves /dp/config and the API with the token
// read from --token-file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { runCli } from '../../src/cli/cli.js';
import { startServe } from '../../src/cli/commands/serve.js';
import type { CliIO } from '../../src/cli/io.js';
import { rawRequest } from './helpers.js';

function captureIO(env: Record<string, string | undefined> = {}): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, env, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const panelDir = mkdtempSync(join(tmpdir(), 'dp-panel-'));
writeFileSync(join(panelDir, 'index.html'), '<!doctype html><dp-app></dp-app>');

describe('serve / demo usage errors (exit 2, nothing listens)', () => {
  const cases: [string[], RegExp][] = [
    [['serve'], /no PVE API URL/],
    [['serve', '--pve', 'https://pve1:8006'], /no API token/],
    [['serve', '--pve', 'https://pve1:8006', '--token-file', '/nonexistent/tok'], /--token-file \/nonexistent\/tok: no such file/],
    [['demo', '--port', 'abc'], /option '--port <port>' argument 'abc' is invalid/],
    [['demo', '--vms', '-1'], /option '--vms <n>' argument '-1' is invalid\. expected a whole number/],
    [['demo', '--port', '0', '--panel-dir', '/nonexistent/panel'], /npm run build/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' '), async () => {
      const io = captureIO();
      expect(await runCli(argv, io)).toBe(2);
      expect(io.err).toMatch(message);
    });
  }
});

it('serve --port out of range names the port', async () => {
  const io = captureIO({ PVE_TOKEN: 'audit@pve!panel=0b6e9d6c' });
  expect(await runCli(['serve', '--pve', 'https://pve1:8006', '--port', '99999'], io)).toBe(2);
  expect(io.err).toMatch(/option '--port <port>' argument '99999' is invalid/);
});

describe('serve with a token file', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 2, seed: 1, authDelayMs: 0, timeScale: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('forwards with the token from the file; read-only shows in /dp/config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-tok-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `# audit token\n${sim.auditToken}\n`, { mode: 0o600 });
    const io = captureIO();
    const shim = await startServe({ pve: sim.url, tokenFile, fingerprint: sim.fingerprint!, port: 0, panelDir, readOnly: true }, io);
    try {
      expect(JSON.parse((await rawRequest(shim.url, 'GET', '/dp/config')).body)).toMatchObject({ readOnly: true, upstream: new URL(sim.url).host });
      const res = await rawRequest(shim.url, 'GET', '/api2/json/cluster/resources?type=vm');
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { data: unknown[] }).data).toHaveLength(2);
      expect((await rawRequest(shim.url, 'GET', '/')).body).toContain('<dp-app>');
    } finally {
      await shim.close();
    }
  });
});

it("demo keeps its jobs in a directory of its own run (not the user's state directory) and removes it on close", async () => {
  const { existsSync } = await import('node:fs');
  const { stateDir } = await import('../../src/node/state-dir.js');
  const { startDemo } = await import('../../src/cli/commands/demo.js');
  const demo = await startDemo({ port: 0, vms: 2, seed: 1, panelDir }, captureIO());
  let dir = '';
  try {
    dir = demo.stateDir;
    expect(dir.startsWith(tmpdir())).toBe(true);
    expect(dir.startsWith(stateDir())).toBe(false);
    expect(existsSync(dir)).toBe(true);
  } finally {
    await demo.close();
  }
  expect(existsSync(dir)).toBe(false);
});
