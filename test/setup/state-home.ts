// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every test file runs with its own state directory (XDG_STATE_HOME, inherited by the shims and
 * CLIs it starts): jobs, plans, journals and the audit log a test makes never land in the user's
 * real ~/.local/state/pve-dataplane, and the directory is removed after the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pve-dataplane-test-state-'));
process.env['XDG_STATE_HOME'] = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
