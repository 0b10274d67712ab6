// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The online audit when the VM list cannot be read at all: the message names the URL as used
 * (scheme and port filled in), what went wrong and what to do; exit 1, no stack trace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { type FakePve, recordedAnswer, replay, startFakePve } from '../api/helpers/fake-pve.js';
import { captureIO } from './capture.js';

const TOKEN = 'root@pam!sim=00000000-0000-0000-0000-000000000000';
let server: FakePve | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function audit(env: Record<string, string>, args: string[] = []) {
  const io = captureIO({ env });
  const code = await runCli(['audit', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('audit --pve errors', () => {
  it('a refused token: says to check the token (format, pveum token list, expiry) and the URL', async () => {
    server = await startFakePve((_req, reply) => replay(reply, recordedAnswer('error-401-invalid-token.txt')));
    const { code, out, err } = await audit({ PVE_URL: server.url, PVE_TOKEN: TOKEN });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain(`${server.url}: GET /cluster/resources: invalid token value`);
    expect(err).toContain('the API token was refused');
    expect(err).toContain('pveum user token list');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('an unreachable URL given without scheme: names it as used (https://HOST:PORT) and what to check', async () => {
    const { code, err } = await audit({ PVE_URL: '127.0.0.1:1', PVE_TOKEN: TOKEN });
    expect(code).toBe(1);
    expect(err).toContain('https://127.0.0.1:1: GET /cluster/resources: Connection error');
    expect(err).toContain('check the host and port');
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe('audit --pve without a token', () => {
  it('suggests a privilege-separated token with the read-only PVEAuditor role, not one with all of the user\'s rights', async () => {
    const { code, err } = await audit({}, ['--pve', 'https://127.0.0.1:1']);
    expect(code).toBe(2);
    expect(err).toContain('no API token');
    expect(err).toContain("pveum user token add audit@pve dataplane --privsep 1 && pveum acl modify / --tokens 'audit@pve!dataplane' --roles PVEAuditor");
    expect(err).not.toContain('--privsep 0');
  });
});

describe('audit --pve --no-evidence', () => {
  it('says the evidence was skipped by --no-evidence, not that its collection "did not run"', async () => {
    const { fleetFromConfigs, startSimulator } = await import('../../../api-shim/simulator/index.js');
    const sim = await startSimulator({
      fleet: fleetFromConfigs([{ vmid: 100, node: 'pve1', text: 'name: ok\nscsihw: virtio-scsi-single\nscsi0: local-lvm:vm-100-disk-0,iothread=1,aio=threads\n' }], {
        storageCfg: 'lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent images\n',
        nodes: ['pve1'],
      }),
      http: true,
      authDelayMs: 0,
      timeScale: 0,
    });
    server = { url: sim.url, close: () => sim.close() } as typeof server;
    const { code, out } = await audit({ PVE_URL: sim.url, PVE_TOKEN: sim.token, COLUMNS: '1000' }, ['--no-evidence']);
    expect(code).toBe(0);
    expect(out).toContain('config OK; not checked:');
    expect(out).toContain('[skipped: --no-evidence]');
    expect(out).not.toContain('did not run');
  });
});

describe('plan --pve errors', () => {
  it('an unreachable URL: plan gives the same hint as audit (host and port, firewall, pveproxy)', async () => {
    const io = captureIO({ env: { PVE_URL: '127.0.0.1:1', PVE_TOKEN: TOKEN } });
    const code = await runCli(['plan', '--all'], io);
    expect(code).toBe(1);
    expect(io.err()).toContain('GET /cluster/resources: Connection error');
    expect(io.err()).toContain('check the host and port in --pve / PVE_URL');
    expect(io.err()).toContain('systemctl status pveproxy');
    expect(io.err()).not.toMatch(/\n\s+at /);
  });
});
