// SPDX-License-Identifier: AGPL-3.0-or-later
// The panel's Apply: POST /dp/apply plans and applies in the shim with the CLI's functions,
// journals to disk, never reboots; the journal it names rolls everything back. Refused in
// read-only mode and without the CSRF token, before anything is read or written.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyAnswer } from '../../api-shim/plugins/apply.js';
import { startSimulator, type RunningSimulator } from '../../api-shim/simulator/index.js';
import { runCli } from '../../src/cli/cli.js';
import { CSRF, rawRequest, startShim } from './helpers.js';

const json = { 'content-type': 'application/json', csrfpreventiontoken: CSRF };

describe('POST /dp/apply', () => {
  let sim: RunningSimulator;
  let shim: { url: string; close(): Promise<void> };
  let ro: { url: string; close(): Promise<void> };
  let stateDir: string;
  beforeAll(async () => {
    sim = await startSimulator({ vms: 8, seed: 4, authDelayMs: 0, timeScale: 0 });
    stateDir = mkdtempSync(join(tmpdir(), 'dp-state-'));
    shim = await startShim({ upstream: sim.url, token: sim.token, fingerprint: sim.fingerprint!, stateDir });
    ro = await startShim({ upstream: sim.url, token: sim.token, fingerprint: sim.fingerprint!, stateDir, readOnly: true });
  });
  afterAll(async () => {
    await shim.close();
    await ro.close();
    await sim.close();
  });

  const pendingOf = async (vmid: number) => {
    const res = await rawRequest(shim.url, 'GET', `/api2/json/cluster/resources?type=vm`);
    const node = (JSON.parse(res.body).data as { vmid: number; node: string }[]).find((r) => r.vmid === vmid)!.node;
    const items = JSON.parse((await rawRequest(shim.url, 'GET', `/api2/json/nodes/${node}/qemu/${vmid}/pending`)).body).data as { key: string; value?: unknown; pending?: unknown }[];
    return items.filter((i) => i.key !== 'digest').sort((a, b) => a.key.localeCompare(b.key));
  };

  it('refused in read-only mode and without the CSRF token; bad bodies are 400', async () => {
    const body = JSON.stringify({ vmids: [100] });
    expect(JSON.parse((await rawRequest(ro.url, 'POST', '/dp/apply', json, body)).body).code).toBe('DP_AUDIT_READ_ONLY');
    expect(JSON.parse((await rawRequest(shim.url, 'POST', '/dp/apply', { 'content-type': 'application/json' }, body)).body).code).toBe('DP_CSRF');
    for (const bad of [{}, { vmids: [] }, { vmids: ['100'] }, { vmids: [100], aio: 'fast' }]) {
      const res = await rawRequest(shim.url, 'POST', '/dp/apply', json, JSON.stringify(bad));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).code).toBe('DP_BAD_REQUEST');
    }
  });

  it('applies the plan of the chosen VMs (pending, no reboot), and the journal rolls it back', async () => {
    // Pick VMs whose fresh plan has something to write.
    const plans = await Promise.all(
      [100, 101, 102, 103, 104, 105, 106, 107].map(async (vmid) => ({ vmid, before: await pendingOf(vmid) })),
    );
    const res = await rawRequest(shim.url, 'POST', '/dp/apply', json, JSON.stringify({ vmids: plans.map((p) => p.vmid) }));
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body) as ApplyAnswer;
    expect(answer.summary.results).toHaveLength(8);
    expect(existsSync(answer.journal)).toBe(true);
    expect(existsSync(answer.planFile)).toBe(true);
    expect(answer.rollback).toContain(`--journal ${answer.journal}`);
    const changed = answer.summary.results.filter((r) => r.result !== 'skipped' && r.result !== 'failed');
    expect(changed.length).toBeGreaterThan(0);
    // The journal holds every write's before/after, written by the shim.
    expect(readFileSync(answer.journal, 'utf8')).toContain('"t":"write"');
    // reboot never: the journal records no power action.
    expect(readFileSync(answer.journal, 'utf8')).not.toMatch(/"t":"power/);
    expect(changed.some((r) => r.result === 'pending-reboot')).toBe(true);
    for (const r of changed) {
      const after = await pendingOf(r.vmid);
      expect(after).not.toEqual(plans.find((p) => p.vmid === r.vmid)!.before);
    }
    // The rollback command the panel shows, run as the CLI.
    const tokenFile = join(stateDir, 'token');
    writeFileSync(tokenFile, sim.token, { mode: 0o600 });
    const io = { out: '', err: '', isTTY: false, env: {}, stdout(t: string) { io.out += t; }, stderr(t: string) { io.err += t; } };
    // As shown: the pinned fingerprint is part of it (PVE's certificate is self-signed by default).
    expect(answer.rollback).toContain(`--fingerprint ${sim.fingerprint}`);
    const argv = answer.rollback.replace('TOKEN_FILE', tokenFile).split(' ').slice(1);
    expect(await runCli(argv, io)).toBe(0);
    for (const r of changed) {
      expect(await pendingOf(r.vmid)).toEqual(plans.find((p) => p.vmid === r.vmid)!.before);
    }
  });
});
