// SPDX-License-Identifier: AGPL-3.0-or-later
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareDebianVersionText, parseDebianVersion } from '../../../src/analysis/debian-version.js';

const cmp = (a: string, b: string) => compareDebianVersionText(a, b);

describe('Debian version order (dpkg)', () => {
  it.each([
    ['10.1.2-4', '10.1.2-5', -1],
    ['10.1.2-10', '10.1.2-9', 1],
    ['9.2.0-4', '9.2.0-3', 1],
    ['10.2.1-1', '10.2.1-1', 0],
    ['1.0', '1.0-0', 0],
    ['0:1.0', '1.0', 0],
    ['1:0.1', '2.0', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['2.0-1~bpo1', '2.0-1', -1],
    ['1.0', '1.0+b1', -1],
    ['1.0a', '1.0', 1],
    ['1.0a', '1.0+', -1],
    ['1.0.0', '1.0', 1],
    ['1.01', '1.1', 0],
    ['1.0-1', '1.0-1.1', -1],
    ['1.2.3-1ubuntu1', '1.2.3-1', 1],
    ['1.0-a', '1.0-A', 1],
    ['1.0.1', '1.0a', 1],
  ] as const)('%s vs %s = %i (epoch, upstream, revision, ~)', (a, b, want) => {
    expect(Math.sign(cmp(a, b))).toBe(want);
    expect(Math.sign(cmp(b, a))).toBe(want === 0 ? 0 : -want);
  });

  it('agrees with dpkg --compare-versions on 298 random valid pairs', () => {
    const lines = readFileSync(new URL('../../fixtures/debian-version/dpkg-pairs.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(250);
    const wrong = lines
      .map((l) => l.split(' '))
      .filter(([a, b, want]) => Math.sign(cmp(a!, b!)) !== Number(want))
      .map((p) => p.join(' '));
    expect(wrong).toEqual([]);
  });

  it('splits epoch, upstream (which may hold dashes) and the last revision', () => {
    expect(parseDebianVersion('1:2.0-rc-3')).toEqual({ epoch: 1, upstream: '2.0-rc', revision: '3' });
    expect(parseDebianVersion('10.1.2')).toEqual({ epoch: 0, upstream: '10.1.2', revision: '' });
  });

  it.each(['', 'a1.0', '1.0-', 'x:1.0', '1.0 -1', '1.0-1_2', ':1.0'])('refuses %j as not a Debian version', (text) => {
    expect(parseDebianVersion(text)).toBeNull();
    expect(() => cmp(text, '1.0')).toThrow(/is not a Debian version/);
  });
});
