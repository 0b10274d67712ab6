// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { notChecked, textOnce } from '../../../src/analysis/risk/context.js';
import { OFFLINE, unavailable } from '../../../src/analysis/risk/types.js';

describe('notChecked', () => {
  it('words every check and why as given, also past the bounds of its message memo', () => {
    // More checks and more whys per check than the memo keeps: each message must still be its own.
    for (let c = 0; c < 600; c += 7) {
      for (let w = 0; w < 80; w += 3) {
        const r = notChecked(`check ${c}`, `/nodes/n${w}/syslog`, unavailable(`missing privilege Sys.Syslog on /nodes/n${w}`, 'permission'));
        expect(r.message).toBe(`Could not check check ${c}: missing privilege Sys.Syslog on /nodes/n${w}.`);
      }
    }
    expect(notChecked('the disk IO load (rrddata)', '/nodes/pve1/qemu/100/rrddata', OFFLINE).message).toBe(
      'Could not check the disk IO load (rrddata): offline audit (files only): needs the PVE API.',
    );
    expect(notChecked('the disk IO load (rrddata)', '/nodes/pve1/qemu/100/rrddata', undefined).message).toBe('Could not check the disk IO load (rrddata): not collected.');
  });
});

describe('textOnce', () => {
  it('gives each key its own text, made once, also once the memo has started afresh', () => {
    const memo = new Map<string, string>();
    let made = 0;
    const text = (k: number): string => textOnce(memo, `k${k}`, () => (made++, `text of ${k}`));
    expect(text(1)).toBe('text of 1');
    expect(text(1)).toBe('text of 1');
    expect(made).toBe(1);
    for (let k = 0; k < 3000; k++) expect(text(k)).toBe(`text of ${k}`);
    expect(memo.size).toBeLessThanOrEqual(1024);
    expect(text(2999)).toBe('text of 2999');
  });
});
