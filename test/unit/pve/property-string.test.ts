// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, it } from 'vitest';
import {
  PropertyStringError,
  canonicalPropertyString,
  decodeUrlValue,
  driveFormat,
  encodeUrlValue,
  formatSize,
  getPart,
  parsePropertyString,
  parseSize,
  printPropertyString,
  removePart,
  scanPropertyString,
  setDefaultPart,
  setPart,
  type PropertyFormat,
} from '../../../src/pve/index.js';

const scsi = driveFormat('scsi');

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PropertyStringError);
    return (err as PropertyStringError).reason;
  }
  throw new Error('expected a PropertyStringError');
}

describe('parsePropertyString (PVE parse_property_string rules)', () => {
  it('takes the first part without "=" as the default key and keeps values as written', () => {
    const ps = parsePropertyString('local-lvm:vm-100-disk-0,iothread=on,backup=no,size=32G', scsi);
    expect(ps.parts[0]).toEqual({ key: 'file', writtenKey: null, value: 'local-lvm:vm-100-disk-0' });
    expect(getPart(ps, 'iothread')).toBe('on');
    expect(getPart(ps, 'backup')).toBe('no');
    expect(getPart(ps, 'size')).toBe('32G');
  });

  it('reads volume= as an alias of file and remembers the spelling', () => {
    const ps = parsePropertyString('volume=local:iso/x.iso,media=cdrom', scsi);
    expect(getPart(ps, 'file')).toBe('local:iso/x.iso');
    expect(ps.parts[0]).toEqual({ key: 'file', writtenKey: 'volume', value: 'local:iso/x.iso' });
    expect(printPropertyString(ps)).toBe('volume=local:iso/x.iso,media=cdrom');
  });

  it('lets a later volume= overwrite file= (PVE checks duplicates by the written key)', () => {
    const ps = parsePropertyString('file=st:1,volume=sb:2', scsi);
    expect(getPart(ps, 'file')).toBe('sb:2');
  });

  it('rejects duplicate keys with PVE wording', () => {
    expect(reasonOf(() => parsePropertyString('st:1,cache=none,cache=writeback', scsi))).toBe(
      'duplicate key in comma-separated list property: cache',
    );
    expect(reasonOf(() => parsePropertyString('st:1,sb:2', scsi))).toBe('duplicate key in comma-separated list property: file');
    expect(reasonOf(() => parsePropertyString('st:1,file=sb:2', scsi))).toBe('duplicate key in comma-separated list property: file');
    expect(reasonOf(() => parsePropertyString('volume=st:1,sb:2', scsi))).toBe('duplicate key in comma-separated list property: file');
  });

  it('rejects keys the format does not have', () => {
    const err = (() => {
      try {
        parsePropertyString('local:vm-1-disk-0,iothread=1', driveFormat('sata'));
      } catch (e) {
        return e as PropertyStringError;
      }
      throw new Error('no error');
    })();
    expect(err.reason).toBe('invalid key in comma-separated list property: iothread');
    expect(err.key).toBe('iothread');
    expect(err.input).toBe('local:vm-1-disk-0,iothread=1');
    expect(err.message).toContain('local:vm-1-disk-0,iothread=1');
  });

  it('accepts every PVE boolean spelling and rejects others', () => {
    for (const v of ['1', 'on', 'yes', 'true', '0', 'off', 'no', 'false', 'ON', 'True']) {
      expect(() => parsePropertyString(`st:1,iothread=${v}`, scsi)).not.toThrow();
    }
    expect(reasonOf(() => parsePropertyString('st:1,iothread=2', scsi))).toBe("type check ('boolean') failed - got '2'");
  });

  it('checks enums, integers, minimums, patterns and sizes', () => {
    expect(reasonOf(() => parsePropertyString('st:1,aio=fast', scsi))).toBe(
      "value 'fast' does not have a value in the enumeration 'native, threads, io_uring'",
    );
    expect(reasonOf(() => parsePropertyString('st:1,iops=1.5', scsi))).toBe("type check ('integer') failed - got '1.5'");
    expect(reasonOf(() => parsePropertyString('st:1,queues=1', scsi))).toBe('value must have a minimum value of 2');
    expect(reasonOf(() => parsePropertyString('st:1,wwn=0x12', scsi))).toBe('value does not match the regex pattern');
    expect(reasonOf(() => parsePropertyString('st:1,size=32GB', scsi))).toBe("unable to parse size '32GB'");
    expect(reasonOf(() => parsePropertyString('st:1,serial=a b', scsi))).toBe('invalid urlencoded string: a b');
    expect(reasonOf(() => parsePropertyString('media=cdrom', scsi))).toBe('property is missing and it is not optional');
    expect(reasonOf(() => parsePropertyString('x,media=cdrom', scsi))).toBe("unable to parse volume ID 'x'");
  });

  it('skips empty parts like PVE but prints them back', () => {
    const text = 'st:1,,cache=none, ,';
    const ps = parsePropertyString(text, scsi);
    expect(getPart(ps, 'cache')).toBe('none');
    expect(printPropertyString(ps)).toBe(text);
  });

  it('reports "missing key" for key= and =value parts', () => {
    expect(reasonOf(() => parsePropertyString('st:1,cache=', scsi))).toBe('missing key in comma-separated list property');
    expect(reasonOf(() => parsePropertyString('st:1,=none', scsi))).toBe('missing key in comma-separated list property');
  });

  it('keeps "=" inside values', () => {
    const fmt: PropertyFormat = { user: { type: 'string' } };
    expect(getPart(parsePropertyString('user=a=b', fmt), 'user')).toBe('a=b');
  });

  it('refuses a bare value when the format has no default key', () => {
    const fmt: PropertyFormat = { user: { type: 'string' } };
    expect(reasonOf(() => parsePropertyString('foo', fmt))).toBe('value without key, but schema does not define a default key');
  });
});

describe('scanPropertyString', () => {
  it('never throws and keeps unknown keys with a problem', () => {
    const { ps, problems } = scanPropertyString('local:vm-1-disk-0,iothread=1,bogus=x', driveFormat('ide'));
    expect(printPropertyString(ps)).toBe('local:vm-1-disk-0,iothread=1,bogus=x');
    expect(problems.map((p) => p.reason)).toEqual([
      'invalid key in comma-separated list property: iothread',
      'invalid key in comma-separated list property: bogus',
    ]);
    expect(getPart(ps, 'bogus')).toBe('x');
  });
});

describe('canonicalPropertyString (PVE print_property_string)', () => {
  it('puts the default key first, sorts the rest and prints booleans as 1/0', () => {
    const ps = parsePropertyString('volume=local:vm-1-disk-0,size=1024M,iothread=on,backup=no,aio=threads', scsi);
    expect(canonicalPropertyString(ps, scsi)).toBe('local:vm-1-disk-0,aio=threads,backup=0,iothread=1,size=1G');
  });

  it('resolves aliases and drops empty parts', () => {
    const ps = parsePropertyString('st:1,,bps_rd_length=5,mbps_rd_max=3,mbps_rd=1', scsi);
    expect(canonicalPropertyString(ps, scsi)).toBe('st:1,bps_rd_max_length=5,mbps_rd=1,mbps_rd_max=3');
  });
});

describe('part helpers', () => {
  const ps = parsePropertyString('volume=local:vm-1-disk-0,cache=none,size=8G', scsi);

  it('setPart replaces in place, keeping position and spelling, and appends new keys', () => {
    const changed = setPart(setPart(ps, 'cache', 'writeback'), 'iothread', '1');
    expect(printPropertyString(changed)).toBe('volume=local:vm-1-disk-0,cache=writeback,size=8G,iothread=1');
    expect(printPropertyString(setPart(ps, 'file', 'other:vm-1-disk-0'))).toBe('volume=other:vm-1-disk-0,cache=none,size=8G');
    expect(printPropertyString(ps)).toBe('volume=local:vm-1-disk-0,cache=none,size=8G');
  });

  it('setPart refuses values with commas', () => {
    expect(() => setPart(ps, 'serial', 'a,b')).toThrow(PropertyStringError);
    expect(reasonOf(() => setPart(ps, 'serial', 'a,b'))).toBe('illegal value with commas for serial');
  });

  it('setDefaultPart puts a missing default key first, bare', () => {
    const noFile = parsePropertyString('cache=none', { ...scsi, file: { type: 'string', defaultKey: true } });
    expect(printPropertyString(setDefaultPart(noFile, 'file', 'local:vm-1-disk-0'))).toBe('local:vm-1-disk-0,cache=none');
  });

  it('removePart drops every part of the key', () => {
    expect(printPropertyString(removePart(ps, 'cache'))).toBe('volume=local:vm-1-disk-0,size=8G');
    expect(getPart(removePart(ps, 'file'), 'file')).toBeUndefined();
  });
});

describe('URL-encoded values (serial, model)', () => {
  it('decodes like uri_unescape + UTF-8 and encodes back', () => {
    expect(decodeUrlValue('ABC%2C123')).toBe('ABC,123');
    expect(decodeUrlValue('k%C3%B6nnen')).toBe('können');
    expect(decodeUrlValue('100%')).toBe('100%');
    expect(encodeUrlValue('ABC,123 ö')).toBe('ABC%2C123%20%C3%B6');
    expect(decodeUrlValue(encodeUrlValue('a,b=c;d/é'))).toBe('a,b=c;d/é');
  });

  it('an encoded serial passes the urlencoded check and keeps its text', () => {
    const ps = parsePropertyString(`st:1,serial=${encodeUrlValue('WD-1,2')}`, driveFormat('sata'));
    expect(getPart(ps, 'serial')).toBe('WD-1%2C2');
    expect(decodeUrlValue(getPart(ps, 'serial')!)).toBe('WD-1,2');
  });
});

describe('disk sizes (parse_size / format_size)', () => {
  it('converts to bytes and prints the largest exact unit', () => {
    expect(parseSize('32G')).toBe(32n * 1024n ** 3n);
    expect(parseSize('1.5K')).toBe(1536n);
    expect(parseSize('0.5G')).toBe(512n * 1024n ** 2n);
    expect(parseSize('12 G')).toBeNull();
    expect(formatSize(32n * 1024n ** 3n)).toBe('32G');
    expect(formatSize(1536n)).toBe('1536');
    expect(formatSize(2048n)).toBe('2K');
    expect(formatSize(parseSize('921604M')!)).toBe('921604M');
    expect(formatSize(parseSize('1024G')!)).toBe('1T');
  });
});
