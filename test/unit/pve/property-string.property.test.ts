// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Property tests: generated valid drive property strings of every bus print back exactly and keep
 * their values; 100k mutated strings either parse or fail with a PropertyStringError that names
 * the input (never another error type, never a hang).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PropertyStringError,
  canonicalPropertyString,
  driveFormat,
  getPart,
  isAlias,
  parseDrive,
  parsePropertyString,
  printDrive,
  printPropertyString,
  scanPropertyString,
  type DriveKeyKind,
  type PropertyFormat,
  type PropertySpec,
} from '../../../src/pve/index.js';

const KINDS: DriveKeyKind[] = ['ide', 'sata', 'scsi', 'virtio', 'efidisk', 'tpmstate', 'unused'];
const KEY_OF: Record<DriveKeyKind, string> = {
  ide: 'ide1',
  sata: 'sata3',
  scsi: 'scsi12',
  virtio: 'virtio4',
  efidisk: 'efidisk0',
  tpmstate: 'tpmstate0',
  unused: 'unused7',
};

const chars = (set: string, maxLength: number, minLength = 0) =>
  fc.array(fc.constantFrom(...set.split('')), { minLength, maxLength }).map((a) => a.join(''));
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const storageId = fc
  .tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')), chars('abcxyz019-_.', 8), fc.constantFrom(...'az09'.split('')))
  .map(([a, b, c]) => a + b + c);
// Volume names: anything but ',' (and no '=' so that the bare form stays a bare part).
const volname = chars(`${ALNUM}-_./:+@ é`, 30, 1);
const volumeId = fc.tuple(storageId, volname).map(([s, v]) => `${s}:${v}`);
const driveFile = fc.oneof(volumeId, fc.constant('none'), fc.constant('cdrom'), chars(`${ALNUM}-_./`, 20).map((p) => `/dev/${p}`));

function valueArb(key: string, spec: PropertySpec): fc.Arbitrary<string> {
  switch (spec.type) {
    case 'boolean':
      return fc.constantFrom('1', '0', 'on', 'off', 'yes', 'no', 'true', 'false', 'ON', 'Yes', 'FALSE');
    case 'integer':
      return fc.integer({ min: spec.minimum ?? 0, max: 10_000_000 }).map(String);
    case 'number':
      return fc.oneof(fc.nat(100_000).map(String), fc.tuple(fc.nat(1000), fc.nat(999)).map(([a, b]) => `${a}.${b}`));
    case 'enum':
      return fc.constantFrom(...(spec.values ?? []));
    case 'string':
      break;
  }
  if (spec.format === 'disk-size') {
    return fc.tuple(fc.nat(100_000), fc.constantFrom('', 'K', 'M', 'G', 'T'), fc.boolean()).map(([n, u, frac]) => `${n}${frac ? '.5' : ''}${u}`);
  }
  // A value is never empty: `key=` is a syntax error for PVE.
  if (spec.urlEncoded) return chars(`${ALNUM}-_.!~*'()%`, Math.min(spec.maxLength ?? 20, 40), 1);
  if (key === 'wwn') return chars('0123456789abcdefABCDEF', 16, 16).map((s) => `0x${s}`);
  if (key === 'product') return chars(`${ALNUM}-_ `, 16, 1);
  if (key === 'vendor') return chars(`${ALNUM}-_ `, 8, 1);
  return chars(ALNUM, 10, 1);
}

interface Generated {
  kind: DriveKeyKind;
  text: string;
  /** Canonical key -> value as written. */
  values: Record<string, string>;
}

/** Written spellings of each canonical key (the key itself plus its aliases). */
function spellings(format: PropertyFormat): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, spec] of Object.entries(format)) {
    const canonical = isAlias(spec) ? spec.alias : k;
    out.set(canonical, [...(out.get(canonical) ?? []), k]);
  }
  return out;
}

const validDrive: fc.Arbitrary<Generated> = fc.constantFrom(...KINDS).chain((kind) => {
  const format = driveFormat(kind);
  const names = spellings(format);
  const optionKeys = [...names.keys()].filter((k) => k !== 'file');
  const option = (key: string) =>
    fc.tuple(fc.constantFrom(...names.get(key)!), valueArb(key, format[key] as PropertySpec)).map(([written, value]) => ({ key, written, value }));
  const fileArb = kind === 'unused' ? volumeId : driveFile;
  return fc
    .record({
      file: fileArb,
      fileSpelling: fc.constantFrom('', 'file', 'volume'),
      options: fc.shuffledSubarray(optionKeys, { maxLength: Math.min(12, optionKeys.length) }).chain((keys) => fc.tuple(...keys.map(option))),
      filePos: fc.nat(),
      empties: fc.array(fc.nat(), { maxLength: 2 }),
    })
    .map(({ file, fileSpelling, options, filePos, empties }) => {
      const parts = options.map((o) => `${o.written}=${o.value}`);
      parts.splice(filePos % (parts.length + 1), 0, fileSpelling ? `${fileSpelling}=${file}` : file);
      for (const e of empties) parts.splice(e % (parts.length + 1), 0, '');
      const values: Record<string, string> = { file };
      for (const o of options) values[o.key] = o.value;
      return { kind, text: parts.join(','), values };
    });
});

describe('generated valid drive strings (all bus formats)', () => {
  it('parse without error, print back exactly and keep every value', () => {
    fc.assert(
      fc.property(validDrive, ({ kind, text, values }) => {
        const format = driveFormat(kind);
        const ps = parsePropertyString(text, format);
        expect(printPropertyString(ps)).toBe(text);
        for (const [k, v] of Object.entries(values)) expect(getPart(ps, k)).toBe(v);
        const canonical = canonicalPropertyString(ps, format);
        expect(canonicalPropertyString(parsePropertyString(canonical, format), format)).toBe(canonical);
        expect(printDrive(parseDrive(KEY_OF[kind], text))).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });
});

const TRICKY = [',', ',', '=', '=', ' ', '\t', '!', '%', ':', '/', 'x', '0', '1', 'é', '\u0000', '\ud800', ';'];
type Mutation = { at: number; op: 'insert' | 'delete' | 'duplicate'; ch: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('insert', 'insert', 'delete', 'duplicate'),
  ch: fc.constantFrom(...TRICKY),
});

function mutate(text: string, mutations: Mutation[]): string {
  let s = text;
  for (const m of mutations) {
    const at = m.at % (s.length + 1);
    if (m.op === 'insert') s = s.slice(0, at) + m.ch + s.slice(at);
    else if (m.op === 'delete') s = s.slice(0, at) + s.slice(at + 1);
    else {
      // Duplicate the comma-separated part around `at` (provokes duplicate-key errors).
      const start = s.lastIndexOf(',', at - 1) + 1;
      const end = s.indexOf(',', at);
      const part = s.slice(start, end < 0 ? s.length : end);
      s = `${s},${part}`;
    }
  }
  return s;
}

describe('mutated drive strings', () => {
  // 100k runs take ~10 s alone and over 30 s on a loaded machine: a hang guard, not a time limit.
  it('100k mutations: a value or a clear PropertyStringError, never another error', { timeout: 300_000 }, () => {
    const runs = Number(process.env.PVE_FUZZ_RUNS ?? 100_000);
    // Mutate a fixed pool of generated valid strings: generating a fresh one per run costs more
    // than the parse under test.
    const pool = fc.sample(validDrive, { numRuns: 2000, seed: 4242 });
    let failures = 0;
    fc.assert(
      fc.property(fc.nat(pool.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, mutations) => {
        const { kind, text } = pool[i]!;
        const input = mutate(text, mutations);
        const format = driveFormat(kind);
        const scan = scanPropertyString(input, format);
        if (printPropertyString(scan.ps) !== input) throw new Error(`scan does not print back ${JSON.stringify(input)}`);
        try {
          const ps = parsePropertyString(input, format);
          if (scan.problems.length > 0) throw new Error(`parse accepted what scan refused: ${JSON.stringify(input)}`);
          if (printPropertyString(ps) !== input) throw new Error(`parse does not print back ${JSON.stringify(input)}`);
        } catch (err) {
          if (!(err instanceof PropertyStringError)) throw new Error(`unexpected ${String(err)} for ${JSON.stringify(input)}`);
          failures++;
          if (err.input !== input || err.reason === '' || !err.message.includes(err.reason) || scan.problems[0]?.reason !== err.reason) {
            throw new Error(`unclear error ${JSON.stringify(err)} for ${JSON.stringify(input)}`);
          }
        }
        if (printDrive(parseDrive(KEY_OF[kind], input)) !== input) throw new Error(`parseDrive does not print back ${JSON.stringify(input)}`);
      }),
      { numRuns: runs, endOnFailure: true },
    );
    // The mutations must really produce both outcomes, or the test proves nothing.
    expect(failures).toBeGreaterThan(runs * 0.1);
    expect(failures).toBeLessThan(runs * 0.99);
  });
});
