// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import { aioPair, differenceMarks, iothreadPair } from '../../../src/present/disk-facts.js';

type Marked = Parameters<typeof differenceMarks>[0];
const facts = (iothread: [boolean, boolean], aio: [string | null, string | null]): Marked =>
  ({ iothread: { configured: iothread[0], effective: iothread[1] }, aio: { configured: aio[0], effective: aio[1] } }) as Marked;

describe('differenceMarks (the panel\'s ⚑ lines)', () => {
  it('names an ignored iothread=1 and an aio default QEMU does not run, in PVE\'s words', () => {
    expect(differenceMarks(facts([true, false], [null, 'native']))).toEqual([
      'iothread configured on, runs off',
      'aio configured Default (io_uring), runs native',
    ]);
  });

  it('says nothing where QEMU runs what is configured, or runs no aio at all (librbd, no medium)', () => {
    expect(differenceMarks(facts([true, true], ['threads', 'threads']))).toEqual([]);
    expect(differenceMarks(facts([false, false], [null, 'io_uring']))).toEqual([]);
    expect(differenceMarks(facts([false, false], ['native', null]))).toEqual([]);
  });
});

describe('the detail window\'s configured / effective cells', () => {
  it('read as PVE words them: on / off, Default (io_uring) / the mode QEMU runs', () => {
    const f = { ...facts([true, false], [null, 'threads']), qemuDevice: 'scsi-hd', cacheDirect: true, deviations: [] } as unknown as Parameters<typeof aioPair>[0];
    expect(iothreadPair(f)).toBe('on / off');
    expect(aioPair(f)).toBe('Default (io_uring) / threads');
  });
});
