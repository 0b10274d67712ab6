// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The simulator's answer text: PVE's random key order (each object its own, like Perl hashes),
 * the content unchanged, and a big list written in slices that let other requests be answered
 * in between.
 */
import { describe, expect, it } from 'vitest';
import { answerText } from '../../../api-shim/simulator/answer-text.js';
import { KeyOrder } from '../../../api-shim/simulator/key-order.js';
import { createRng } from '../../../api-shim/simulator/rng.js';
import { startSimulator } from '../../../api-shim/simulator/index.js';
import { call } from './helpers/http.js';

const metric = (i: number) => ({ metric: 'disk_read', id: `qemu/${100 + (i % 50)}`, value: i * 1.5, timestamp: 1_800_000_000 + i, type: 'derive' });

describe('answerText', () => {
  it('keeps the content of every object, drops what JSON drops, and orders keys differently from object to object', async () => {
    const data = { data: { data: Array.from({ length: 5000 }, (_, i) => ({ ...metric(i), gone: undefined })) }, total: 3 };
    const text = await answerText(data, { keys: new KeyOrder(createRng(1)), rng: createRng(2) });
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(data)));
    const orders = new Set((JSON.parse(text).data.data as object[]).slice(0, 50).map((m) => Object.keys(m).join(',')));
    expect(orders.size).toBeGreaterThan(3);
  });

  it('gives the same text for the same seeds', async () => {
    const data = { data: Array.from({ length: 1500 }, (_, i) => metric(i)) };
    const one = await answerText(data, { keys: new KeyOrder(createRng(1)), rng: createRng(2) });
    expect(await answerText(data, { keys: new KeyOrder(createRng(1)), rng: createRng(2) })).toBe(one);
    expect(await answerText(data, { keys: new KeyOrder(createRng(1)), rng: createRng(3) })).not.toBe(one);
  });

  it('without shuffling is JSON.stringify', async () => {
    const data = { data: { data: Array.from({ length: 2100 }, (_, i) => metric(i)) }, n: [1, null, 'x'] };
    expect(await answerText(data, null)).toBe(JSON.stringify(data));
  });

  it('lets the event loop run while it writes a big list', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const writing = answerText({ data: Array.from({ length: 200_000 }, (_, i) => metric(i)) }, { keys: new KeyOrder(createRng(1)), rng: createRng(2) });
    await writing;
    clearInterval(ticker);
    expect(turns).toBeGreaterThan(0);
  });
});

describe('KeyOrder', () => {
  /** The copy key by key, drawing each object's order through `keys`: what `shuffle` must equal. */
  function byKey(keys: KeyOrder, value: unknown, rng: ReturnType<typeof createRng>): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => byKey(keys, v, rng));
    const out: Record<string, unknown> = {};
    for (const k of keys.keys(value, rng)) out[k] = byKey(keys, (value as Record<string, unknown>)[k], rng);
    return out;
  }

  it('copies nested objects in the orders, and with the draws, of a key-by-key copy', () => {
    const disk = (i: number) => ({ rd_bytes: i * 4096, wr_bytes: i, idle: i % 2, failed: { rd: 0, wr: [1, { a: 1, b: null }] }, name: `scsi${i}` });
    const data = { data: Array.from({ length: 300 }, (_, i) => ({ vmid: 100 + i, one: { only: i }, empty: {}, blockstat: { scsi0: disk(i), virtio1: disk(i + 1) }, tags: i % 3 ? 'a;b' : undefined })) };
    for (const seed of [1, 2, 3]) {
      const got = new KeyOrder(createRng(7)).shuffle(data, createRng(seed));
      const want = byKey(new KeyOrder(createRng(7)), data, createRng(seed));
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    }
  });
});

describe('a big answer on the wire', () => {
  it('is streamed with the Content-Length of the whole, not chunked (the metrics export of 500 VMs, 4.7 MB)', async () => {
    const sim = await startSimulator({ vms: 500, http: true, authDelayMs: 0, timeScale: 0 });
    try {
      const a = await call(sim, 'GET', '/cluster/metrics/export?history=1');
      expect(a.status).toBe(200);
      expect(a.text.length).toBeGreaterThan(4 * 1024 * 1024);
      expect(a.headers['transfer-encoding']).toBeUndefined();
      expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength(a.text));
      expect(a.body.data.data.length).toBeGreaterThan(10_000);
    } finally {
      await sim.close();
    }
  });
});
