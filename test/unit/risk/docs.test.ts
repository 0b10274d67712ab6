// SPDX-License-Identifier: AGPL-3.0-or-later
/** docs/risk-model.md documents every reason code and links each to code that exists. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RISK_CODES } from '../../../src/analysis/risk/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = readFileSync(join(ROOT, 'docs/risk-model.md'), 'utf8');

/** The doc's `## CODE — ...` sections, with their text. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = DOC.split(/^## /m).slice(1);
  for (const p of parts) out.set(p.split(/\s/)[0]!, p);
  return out;
}

describe('docs/risk-model.md', () => {
  const docs = sections();

  it.each([...RISK_CODES])('%s has a section with why, source, rule and fix', (code) => {
    const text = docs.get(code);
    expect(text, `no "## ${code}" section`).toBeDefined();
    for (const part of ['**Why.**', '**Rule.**', '**Fix.**']) expect(text).toContain(part);
    if (code !== 'NOT_CHECKED') expect(text).toContain('**Source.**');
    expect(text).toMatch(/\]\(\.\.\/src\/analysis\/risk\/[a-z-]+\.ts\)/);
  });

  it('every code link names functions that exist in the linked file', () => {
    const links = [...DOC.matchAll(/\[((?:`[^`]+`(?:, )?)+)\]\(\.\.\/([^)]+)\)/g)];
    expect(links.length).toBeGreaterThan(10);
    for (const [, names, path] of links) {
      const file = join(ROOT, path!);
      expect(existsSync(file), path).toBe(true);
      if (statSync(file).isDirectory()) continue;
      const source = readFileSync(file, 'utf8');
      for (const name of names!.match(/`([^`]+)`/g)!.map((n) => n.slice(1, -1))) {
        expect(source, `${name} in ${path}`).toMatch(new RegExp(`(function|const) ${name}\\b`));
      }
    }
  });
});
