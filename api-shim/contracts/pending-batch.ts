// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The framing of the shim's batched config read, `GET /dp/pending?node=N&vmids=100,101,...`
 * (api-shim/plugins/pending-batch.ts writes it, panel/data/pending-batch.ts reads it): each VM's
 * `/nodes/N/qemu/V/pending` answer as PVE sent it, in the order the answers came in, then an end
 * line. Content type `application/vnd.pve-dataplane.pending-batch; version=1`.
 *
 *   record = <vmid> SP <status> SP <length> SP <reason> LF <length bytes: the answer's body>
 *   end    = "end" SP <number of records> LF
 *
 * `status` is the HTTP status of the VM's answer (three digits), `reason` its reason phrase (PVE
 * <= 8.2 puts its error text only there; visible ASCII, at most 200 characters, may be empty),
 * `length` the body's size in bytes. A VM whose read failed in the shim (PVE not reachable, no
 * answer in time) has a record with the shim's own error answer (502 `DP_UPSTREAM_UNREACHABLE`),
 * exactly as the proxied GET would have answered it. Every requested VM has exactly one record.
 *
 * Why lengths and not JSON lines: the shim never parses an answer (it only counts its bytes), and
 * no byte of a body, whatever it holds, can end a record early or start a forged one.
 */

export const PENDING_BATCH_PATH = '/dp/pending';
export const PENDING_BATCH_TYPE = 'application/vnd.pve-dataplane.pending-batch; version=1';

/** VMs per request at most: one request costs the shim that many upstream reads. */
export const PENDING_BATCH_MAX_VMIDS = 500;

/** The largest body a record carries (bytes); a bigger answer is refused as a 502 record. A VM config file is at most 1 MiB in pmxcfs. */
export const PENDING_BATCH_MAX_BODY = 8 * 1024 * 1024;

/** A record's head line at most (bytes, LF included): 9 + 3 + 8 digits, three spaces, a 200-character reason. */
const MAX_HEAD = 256;

/** How `/dp/config` advertises the batched read (absent: the shim has none, read per VM). */
export interface PendingBatchAdvert {
  path: string;
  maxVmids: number;
}

/** One VM's answer. */
export interface PendingBatchRecord {
  vmid: number;
  status: number;
  reason: string;
  /** The answer's body, as PVE sent it (UTF-8 JSON, or empty). */
  body: string;
}

/** A reason phrase as a record carries it: one line of visible ASCII, at most 200 characters. */
export function recordReason(reason: string | undefined): string {
  return (reason ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** The head line of a record whose body is `length` bytes. */
export function recordHead(vmid: number, status: number, reason: string | undefined, length: number): string {
  return `${vmid} ${status} ${length} ${recordReason(reason)}\n`;
}

/** The end line after `count` records. */
export function endLine(count: number): string {
  return `end ${count}\n`;
}

/** The stream is not this framing (cut, forged, or not from this shim). */
export class PendingBatchFramingError extends Error {
  override name = 'PendingBatchFramingError';
}

const HEAD = /^([1-9][0-9]{2,8}) ([1-5][0-9]{2}) (0|[1-9][0-9]{0,8}) ([\x20-\x7e]{0,200})$/;
const END = /^end (0|[1-9][0-9]{0,8})$/;
const LF = 0x0a;

/**
 * Reads the framing from chunks cut anywhere (`push` each chunk as it arrives, `finish` at the
 * end of the stream). Records come out as soon as their last byte is in.
 */
export class PendingBatchParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** The head of the record whose body is being read. */
  private head: { vmid: number; status: number; reason: string; length: number } | null = null;
  private count = 0;
  private ended = false;
  private readonly decoder = new TextDecoder('utf-8');

  /**
   * The records completed by `chunk`.
   * @throws PendingBatchFramingError on anything but this framing
   */
  push(chunk: Uint8Array): PendingBatchRecord[] {
    if (chunk.length === 0) return [];
    if (this.ended) throw new PendingBatchFramingError('bytes after the end line');
    let buf = chunk;
    if (this.buf.length > 0) {
      buf = new Uint8Array(this.buf.length + chunk.length);
      buf.set(this.buf);
      buf.set(chunk, this.buf.length);
    }
    const out: PendingBatchRecord[] = [];
    let at = 0;
    for (;;) {
      if (this.head) {
        const { length } = this.head;
        if (buf.length - at < length) break;
        const body = this.decoder.decode(buf.subarray(at, at + length));
        at += length;
        out.push({ vmid: this.head.vmid, status: this.head.status, reason: this.head.reason, body });
        this.head = null;
        this.count++;
        continue;
      }
      if (at === buf.length) break;
      if (this.ended) throw new PendingBatchFramingError('bytes after the end line');
      const nl = buf.indexOf(LF, at);
      if (nl < 0) {
        if (buf.length - at >= MAX_HEAD) throw new PendingBatchFramingError(`a head line longer than ${MAX_HEAD} bytes`);
        break;
      }
      if (nl - at >= MAX_HEAD) throw new PendingBatchFramingError(`a head line longer than ${MAX_HEAD} bytes`);
      // Heads are ASCII; a byte >= 0x80 decodes to U+FFFD, which neither pattern accepts.
      const line = this.decoder.decode(buf.subarray(at, nl));
      at = nl + 1;
      const end = END.exec(line);
      if (end) {
        if (Number(end[1]) !== this.count) throw new PendingBatchFramingError(`end line says ${end[1]} records, ${this.count} came`);
        this.ended = true;
        continue;
      }
      const m = HEAD.exec(line);
      if (!m) throw new PendingBatchFramingError(`not a record head: '${line.slice(0, 60)}'`);
      const length = Number(m[3]);
      if (length > PENDING_BATCH_MAX_BODY) throw new PendingBatchFramingError(`a record of ${length} bytes (at most ${PENDING_BATCH_MAX_BODY})`);
      this.head = { vmid: Number(m[1]), status: Number(m[2]), reason: m[4]!, length };
    }
    this.buf = at === buf.length ? new Uint8Array(0) : buf.slice(at);
    return out;
  }

  /**
   * The stream ended.
   * @throws PendingBatchFramingError when it ended before its end line (cut mid-way)
   */
  finish(): void {
    if (!this.ended) throw new PendingBatchFramingError(this.head || this.buf.length > 0 ? 'the stream ended inside a record' : 'the stream ended without its end line');
  }
}
