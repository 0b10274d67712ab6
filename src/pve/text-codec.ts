// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Byte-level text helpers that mirror PVE's Perl: percent decoding of UTF-8 bytes
 * (URI::Escape uri_unescape + Encode::decode('utf8')) and the description encoding of config
 * files (encode_text / decode_text, docs/how-qemu-server-decides.md#reading-the-config). Isomorphic: TextEncoder/TextDecoder only.
 */

const encoder = new TextEncoder();
// Non-fatal: malformed UTF-8 becomes U+FFFD, as Perl's lax Encode::decode does.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD). */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** `%XX` -> byte, other characters -> their UTF-8 bytes, then the bytes decoded as UTF-8. */
export function decodePercentUtf8(text: string): string {
  if (!text.includes('%')) return text;
  const bytes = encodeUtf8(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && HEX.test(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!))) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return decoder.decode(out.subarray(0, n));
}

/**
 * PVE encode_text for one description line: control characters (0x00-0x1F, 0x7F), `%`, `:` and
 * every non-ASCII byte of the UTF-8 form become `%XX` (upper-case hex).
 */
export function encodeDescriptionLine(line: string): string {
  let out = '';
  for (const b of encodeUtf8(line)) {
    if (b < 0x20 || b > 0x7e || b === 0x25 || b === 0x3a) {
      out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

/** PVE decode_text for one `#` line (the text after `#`). */
export function decodeDescriptionLine(text: string): string {
  return decodePercentUtf8(text);
}
