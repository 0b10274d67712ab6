// SPDX-License-Identifier: AGPL-3.0-or-later
import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuditLine, AuditLog } from '../../../api-shim/jobs/audit-log.js';

const line: AuditLine = { ts: '2026-12-08T02:00:00.000Z', who: 'root@pam!dp', job: 'j1', vmid: 101, node: 'pve1', action: 'config', purpose: 'apply', phase: 'sent', digestBefore: 'a'.repeat(40), digestAfter: null, outcome: null };

describe('the audit log after a shim killed mid-write', () => {
  it('keeps the next line whole: the cut line is sealed with a newline when the log is reopened', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dp-audit-')), 'audit.jsonl');
    const first = new AuditLog(path);
    await first.append(line);
    await first.close();
    appendFileSync(path, '{"ts":"2026-12-08T02:00:01.000Z","who":"root@p');
    const second = new AuditLog(path);
    await second.append({ ...line, phase: 'done', outcome: 'ok' });
    await second.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('{"ts":"2026-12-08T02:00:01.000Z","who":"root@p');
    expect(JSON.parse(lines[2]!)).toMatchObject({ phase: 'done', vmid: 101 });
    expect(lines[3]).toBe('');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('adds nothing to a log whose last line is whole', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dp-audit-')), 'audit.jsonl');
    for (const phase of ['sent', 'done'] as const) {
      const log = new AuditLog(path);
      await log.append({ ...line, phase });
      await log.close();
    }
    expect(readFileSync(path, 'utf8').split('\n').map((l) => (l ? JSON.parse(l).phase : l))).toEqual(['sent', 'done', '']);
  });
});
