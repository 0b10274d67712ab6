// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `pve-dataplane audit --pve ...` end to end through the command table: against the PVE API
 * simulator, and against raw servers for answers the simulator does not give (a 401 without body).
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../../src/analysis/types.js';
import { runCli } from '../../../src/cli/cli.js';
import type { CliIO } from '../../../src/cli/io.js';
import { fleetFromConfigs, startSimulator } from '../../../api-shim/simulator/index.js';
import { type FakePve, fail, startFakePve } from './helpers/fake-pve.js';

const TOKEN = 'audit@pve!ro=00000000-0000-0000-0000-000000000000';
let server: Pick<FakePve, 'url' | 'close'> | null = null;
/** Root's token of the simulator of the current test. */
let simToken = '';
afterEach(async () => {
  await server?.close();
  server = null;
});

function io(env: Record<string, string | undefined>): CliIO & { out: string; err: string } {
  const o = { out: '', err: '', isTTY: false, env } as CliIO & { out: string; err: string };
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  return o;
}

async function cluster(): Promise<Pick<FakePve, 'url' | 'close'>> {
  const raw = await readFile(new URL('../../fixtures/configs/jfrostbite-103-windows-igd-hookscript-iothread.conf', import.meta.url), 'utf8');
  const storageCfg = await readFile(new URL('../../fixtures/cfg2cmd/storage.cfg', import.meta.url), 'utf8');
  const sim = await startSimulator({
    fleet: fleetFromConfigs([{ vmid: 103, node: 'pve1', text: raw }], { storageCfg, nodes: ['pve1'] }),
    http: true,
    authDelayMs: 0,
    timeScale: 0,
  });
  simToken = sim.token;
  return { url: sim.url, close: () => sim.close() };
}

describe('audit --pve', () => {
  it('prints the JSON report from PVE_URL / PVE_TOKEN (http on loopback: no warning)', async () => {
    server = await cluster();
    const cli = io({ PVE_URL: server.url, PVE_TOKEN: simToken });
    expect(await runCli(['audit', '--format', 'json'], cli)).toBe(0);
    const report = JSON.parse(cli.out) as AuditReport;
    expect(report.vms.map((v) => [v.vmid, v.node, v.source, v.status])).toEqual([[103, 'pve1', 'api', 'stopped']]);
    expect(report.vms[0]!.disks.length).toBeGreaterThan(0);
    expect(cli.err).toBe('');
  });

  it('--vmid / --node filters name what they could not find', async () => {
    server = await cluster();
    const cli = io({ PVE_TOKEN: simToken });
    expect(await runCli(['audit', '--pve', server.url, '--vmid', '103,207', '--format', 'json'], cli)).toBe(0);
    expect(cli.err).toContain('VM 207 not found: it does not exist, is a container, or the PVE user or API token in use lacks VM.Audit on /vms/207');
    const bad = io({ PVE_TOKEN: simToken });
    expect(await runCli(['audit', '--pve', server.url, '--node', 'pve7'], bad)).toBe(1);
    expect(bad.err).toBe('pve-dataplane: --node pve7: no such node in this cluster (nodes: pve1)\n');
  });

  it('a refused token ends with exit 1 and names URL, request and PVE\'s text', async () => {
    // Real PVE: 401 with an empty body and no content type.
    server = await startFakePve((_req, reply) => {
      reply.hijack();
      reply.raw.writeHead(401, 'Authentication failed!', { 'Content-Length': 0 });
      reply.raw.end();
      return reply;
    });
    const cli = io({ PVE_TOKEN: TOKEN });
    expect(await runCli(['audit', '--pve', server.url], cli)).toBe(1);
    const [first, hint] = cli.err.split('\n');
    expect(first).toBe(`pve-dataplane: ${server.url}: GET /cluster/resources: Authentication failed! (401)`);
    expect(hint).toMatch(/^ {2}the API token was refused: check the token file/);
  });

  it('a missing token is a usage error (exit 2) naming --token-file and PVE_TOKEN', async () => {
    const raw = await startFakePve((_req, reply) => fail(reply, 500, 'unreachable'));
    server = raw;
    const cli = io({});
    expect(await runCli(['audit', '--pve', raw.url], cli)).toBe(2);
    expect(cli.err).toMatch(/^pve-dataplane: no API token: pass --token-file FILE/);
    expect(raw.requests).toHaveLength(0);
  });
});
