// SPDX-License-Identifier: AGPL-3.0-or-later
// The framing of GET /dp/pending (api-shim/contracts/pending-batch.ts): records come out whole
// however the stream is cut, and nothing but the framing is accepted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PENDING_BATCH_MAX_BODY,
  PendingBatchFramingError,
  PendingBatchParser,
  type PendingBatchRecord,
  endLine,
  recordHead,
} from '../../api-shim/contracts/pending-batch.js';

const enc = new TextEncoder();

function frame(records: readonly PendingBatchRecord[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const r of records) {
    const body = enc.encode(r.body);
    parts.push(enc.encode(recordHead(r.vmid, r.status, r.reason, body.length)), body);
  }
  parts.push(enc.encode(endLine(records.length)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parseAll(chunks: readonly Uint8Array[]): PendingBatchRecord[] {
  const p = new PendingBatchParser();
  const out = chunks.flatMap((c) => p.push(c));
  p.finish();
  return out;
}

const record = fc.record({
  vmid: fc.integer({ min: 100, max: 999_999_999 }),
  status: fc.constantFrom(200, 400, 403, 500, 502, 595),
  reason: fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  // Bodies that look like framing, with newlines, multi-byte characters and nothing at all.
  body: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.constant('100 200 5 OK\nhello'),
    fc.constant('end 0\n'),
    fc.constant(''),
    fc.constant('{"data":[{"key":"scsi0","value":"local-lvm:vm-100-disk-0,size=32G"}]}'),
  ),
});

describe('pending batch framing', () => {
  it('gives every record whole, with its body byte for byte, however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (records, cuts) => {
        const bytes = frame(records);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const c of [...at, bytes.length]) {
          chunks.push(bytes.subarray(from, c));
          from = c;
        }
        expect(parseAll(chunks)).toEqual(records);
      }),
    );
  });

  it('gives the same records one byte at a time', () => {
    const records: PendingBatchRecord[] = [
      { vmid: 100, status: 200, reason: 'OK', body: '{"data":[]}' },
      { vmid: 101, status: 403, reason: 'Permission check failed (/vms/101, VM.Audit)', body: '{"data":null}' },
      { vmid: 102, status: 200, reason: '', body: 'Ünïcødé ✓\n' },
    ];
    const bytes = frame(records);
    expect(parseAll([...bytes].map((b) => Uint8Array.of(b)))).toEqual(records);
  });

  it('batch-truncated-stream: a stream cut inside a record or before its end line is an error, not fewer VMs', () => {
    const bytes = frame([{ vmid: 100, status: 200, reason: 'OK', body: '{"data":[]}' }]);
    for (const cut of [5, bytes.length - 3, bytes.length - 7]) {
      const p = new PendingBatchParser();
      p.push(bytes.subarray(0, cut));
      expect(() => p.finish()).toThrow(PendingBatchFramingError);
    }
  });

  it('batch-forged-record: bytes that are not the framing are refused (no guessing)', () => {
    const bad = [
      'hello\n',
      '99 200 2 OK\n{}end 1\n', // VMID below 100
      '100 200 -1 OK\n',
      '100 2000 2 OK\n{}',
      `100 200 ${PENDING_BATCH_MAX_BODY + 1} OK\n`,
      '100 200 2 OK\n{}end 2\n', // the end line's count is not the records'
      '100 200 2 OK\n{}end 1\nX', // bytes after the end line
      `100 200 2 ${'x'.repeat(300)}\n`, // a head longer than any this shim writes
      '100 200 2 \x01\n{}',
    ];
    for (const text of bad) {
      const p = new PendingBatchParser();
      expect(() => {
        p.push(enc.encode(text));
        p.finish();
      }, text).toThrow(PendingBatchFramingError);
    }
  });

  it('refuses a head line that never ends before it grows past its limit', () => {
    const p = new PendingBatchParser();
    expect(() => p.push(enc.encode('1'.repeat(400)))).toThrow(/head line longer/);
  });
});
