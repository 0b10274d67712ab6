// SPDX-License-Identifier: AGPL-3.0-or-later
/** PVE's config `digest`: SHA-1 hex of the raw file bytes (docs/how-qemu-server-decides.md#api). */
import { sha1 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeUtf8 } from './text-codec.js';

/** SHA-1 hex of the UTF-8 bytes of `text` (or of the given bytes), as PVE computes `digest`. */
export function digestOf(text: string | Uint8Array): string {
  return bytesToHex(sha1(typeof text === 'string' ? encodeUtf8(text) : text));
}
