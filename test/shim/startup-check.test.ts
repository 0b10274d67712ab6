// SPDX-License-Identifier: AGPL-3.0-or-later
// `serve` checks PVE before it listens: a wrong fingerprint, a refused token or an unreachable PVE
// stop it with one sentence naming the cause, instead of a shim that starts and fails every request.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../api-shim/main.js';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { runCli } from '../../src/cli/cli.js';

const WRONG_FP = Array.from({ length: 32 }, () => 'AB').join(':');

describe('serve start-up check', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 2, seed: 1, authDelayMs: 0, timeScale: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  const base = () => ({ upstream: sim.url, panelDir: null, port: 0 });

  it('a wrong fingerprint refuses to start, naming the fingerprint', async () => {
    await expect(serve({ ...base(), token: sim.token, fingerprint: WRONG_FP })).rejects.toThrow(/not reachable.*does not match --fingerprint AB:AB/);
  });

  it('an unpinned self-signed certificate refuses to start, pointing at --fingerprint', async () => {
    await expect(serve({ ...base(), token: sim.token })).rejects.toThrow(/not trusted; pin it with --fingerprint/);
  });

  it('a token PVE does not know refuses to start', async () => {
    await expect(serve({ ...base(), token: 'ghost@pve!dp=00000000-0000-0000-0000-000000000000', fingerprint: sim.fingerprint! })).rejects.toThrow(
      /refused the API token ghost@pve!dp/,
    );
  });

  it('nothing listening refuses to start', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(serve({ ...base(), upstream: `https://127.0.0.1:${port}`, token: sim.token, fingerprint: sim.fingerprint! })).rejects.toThrow(/not reachable.*pveproxy/);
  });

  it('a good token, and login mode against a reachable login endpoint, start', async () => {
    for (const mode of [{ token: sim.token }, { login: true }]) {
      const shim = await serve({ ...base(), ...mode, fingerprint: sim.fingerprint! });
      await shim.close();
    }
  });

  it('the CLI exits 2 with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dp-tok-'));
    writeFileSync(join(dir, 'tok'), `${sim.token}\n`, { mode: 0o600 });
    let err = '';
    const io = { isTTY: false, env: {}, stdout: () => {}, stderr: (t: string) => void (err += t) };
    expect(await runCli(['serve', '--pve', sim.url, '--token-file', join(dir, 'tok'), '--fingerprint', WRONG_FP, '--port', '0'], io)).toBe(2);
    expect(err).toMatch(/cannot start: PVE at https:\/\/127\.0\.0\.1:\d+ not reachable/);
  });
});
