// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every scenario under test/scenarios/ is run and its summary diffed against `expected.json`.
 * A missing golden file fails the run, unless UPDATE_GOLDEN=1: then it is written (review it
 * before committing). An existing golden file is never overwritten; delete it to regenerate.
 * `expected-audit.json` (the whole JSON output) may gain fields, never lose or change one.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenario } from './runner.js';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = readdirSync(ROOT)
  .filter((name) => statSync(join(ROOT, name)).isDirectory() && existsSync(join(ROOT, name, 'input', 'scenario.json')))
  .sort();

describe('risk scenarios (golden files)', () => {
  it('finds the scenarios', () => {
    expect(SCENARIOS.length).toBeGreaterThan(0);
  });

  it.each(SCENARIOS)('%s', async (name) => {
    const dir = join(ROOT, name);
    expect(existsSync(join(dir, 'README.md')), `${name}/README.md missing`).toBe(true);
    const actual = await runScenario(dir);
    const goldens: Array<[string, unknown]> = [
      ['expected.json', actual.summary],
      ['expected-audit.json', actual.json],
    ];
    for (const [file, value] of goldens) {
      const golden = join(dir, file);
      if (!existsSync(golden)) {
        if (process.env.UPDATE_GOLDEN !== '1') {
          throw new Error(`${name}/${file} is missing: run with UPDATE_GOLDEN=1 to write it, then review it`);
        }
        await writeFile(golden, JSON.stringify(value, null, 2) + '\n');
        continue;
      }
      const expected = JSON.parse(await readFile(golden, 'utf8'));
      // The JSON contract welcomes extra fields (ARCHITECTURE, "pve-dataplane audit JSON"): every
      // golden field must be there with the same value, in arrays of the same length; new ones may be added.
      if (file === 'expected-audit.json') expect(value, `${name}/${file}`).toMatchObject(expected);
      else expect(value, `${name}/${file}`).toEqual(expected);
    }
  });
});
