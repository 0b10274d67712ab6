// SPDX-License-Identifier: AGPL-3.0-or-later
/** `pve-dataplane simulate`: options, the ready line, usage errors. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { startFromOptions } from '../../../src/cli/commands/simulate.js';
import { getData } from './helpers/http.js';

function captureIO() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), isTTY: false, env: {} } };
}

describe('simulate', () => {
  it('starts the requested fleet and returns the ready line; logs go to stderr', async () => {
    const { out, io } = captureIO();
    const { sim, ready } = await startFromOptions({ port: 0, vms: 7, nodes: 2, seed: 5, http: true, authDelayMs: 0, timeScale: 0 }, io);
    try {
      expect(ready).toEqual({ url: sim.url, token: sim.token, fingerprint: null, auditToken: sim.auditToken });
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out.stdout).toBe('');
      expect(out.stderr).toContain('7 VMs on 2 nodes (seed 5)');
      const vms: unknown[] = await getData(sim, '/cluster/resources?type=vm');
      expect(vms).toHaveLength(7);
    } finally {
      await sim.close();
    }
  });

  it('refuses bad numbers with exit code 2 and names the option', async () => {
    const { out, io } = captureIO();
    expect(await runCli(['simulate', '--vms', 'many'], io)).toBe(2);
    expect(out.stderr).toContain("option '--vms <n>' argument 'many' is invalid. expected a whole number");
    const second = captureIO();
    expect(await runCli(['simulate', '--pve-version', '7.4'], second.io)).toBe(2);
  });
});
