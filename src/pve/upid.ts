// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PVE task ids: `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` (pve-common UPID.pm).
 * pid, pstart and starttime are upper-case hex; pstart may have 9 digits; the trailing colon is part of it.
 * Shared by the API client (which follows tasks) and the simulator (which issues them).
 */

/** A parsed UPID. */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Epoch seconds. */
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** Parses a UPID; null when it is not one. */
export function parseUpid(upid: string): Upid | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

/** Prints a UPID the way UPID.pm does (8-digit upper-case hex fields, trailing colon). */
export function printUpid(t: Upid): string {
  const h8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${t.node}:${h8(t.pid)}:${h8(t.pstart)}:${h8(t.starttime)}:${t.type}:${t.id}:${t.user}:`;
}
