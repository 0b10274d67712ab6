// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Human text of each disk fact, shared by the table and --explain. A value that differs from what
 * the config suggests says so (`iothread=1 (ignored: scsihw lsi)`, `default → native (lvm)`); a
 * value that could not be determined reads `unknown (<why>)`, marked, never a guess.
 */
import { unknownReason } from '../../analysis/disk-status.js';
import type { DiskFacts, UnknownFact } from '../../analysis/types.js';

/** Whether the text should be highlighted as "not what the config suggests". */
export interface Cell {
  text: string;
  marked: boolean;
}

const DASH = '—';

function noteAfter(f: DiskFacts, prefix: string): string | undefined {
  const note = f.notes.find((n) => n.startsWith(prefix));
  return note?.slice(prefix.length);
}

/** Not given to QEMU at all (a device that is only unknown is still attached). */
function detached(f: DiskFacts): boolean {
  return f.qemuDevice === null && unknownReason(f, 'qemuDevice') === null;
}

/** `unknown (<why>)` for a fact that depends on a storage we cannot see; null when it is known. */
export function unknownCell(f: DiskFacts, field: UnknownFact['field']): Cell | null {
  const why = unknownReason(f, field);
  return why === null ? null : { text: `unknown (${why})`, marked: true };
}

export function deviceCell(f: DiskFacts): Cell {
  const unknown = unknownCell(f, 'qemuDevice');
  if (unknown) return unknown;
  if (detached(f)) return { text: 'not attached', marked: true };
  const template = f.notes.some((n) => n.startsWith('template:')) && f.qemuDevice === 'ide-cd';
  return { text: template ? `${f.qemuDevice} (template)` : (f.qemuDevice as string), marked: template };
}

export function controllerCell(f: DiskFacts): Cell {
  if (detached(f)) return { text: DASH, marked: false };
  if (f.controller === null) return { text: `${DASH} (own PCI device)`, marked: false };
  return { text: `${f.controller} (${f.controllerId})`, marked: false };
}

export function iothreadCell(f: DiskFacts): Cell {
  if (detached(f)) return { text: DASH, marked: false };
  if (f.iothread.effective) return { text: 'on', marked: false };
  if (f.iothread.configured) {
    const why = noteAfter(f, 'iothread=1 ignored: ') ?? 'not attached';
    return { text: `iothread=1 (ignored: ${why})`, marked: true };
  }
  return { text: 'off', marked: false };
}

export function aioCell(f: DiskFacts): Cell {
  if (detached(f)) return { text: DASH, marked: false };
  const unknown = unknownCell(f, 'aio');
  if (unknown) return unknown;
  const { configured, effective } = f.aio;
  if (f.cacheDirect === null && effective === null) return { text: `${DASH} (no medium)`, marked: false };
  if (effective === null) {
    const why = f.notes.find((n) => n.endsWith(' under -blockdev'));
    const m = why ? /(?:ignored|no aio): (.*?)(?: gets no aio)? under -blockdev$/.exec(why) : null;
    const detail = m ? `${m[1]}, -blockdev` : 'no aio';
    return configured ? { text: `aio=${configured} ignored (${detail})`, marked: true } : { text: `none (${detail})`, marked: false };
  }
  if (configured) return { text: effective, marked: false };
  const reason = noteAfter(f, `aio default → ${effective} `);
  if (reason !== undefined) return { text: `default → ${effective} ${reason}`, marked: true };
  return { text: effective, marked: false };
}

/** `cache` overrides the facts' own cache mode (older callers pass the report's). */
export function cacheCell(f: DiskFacts, cache: string | null = null): Cell {
  cache = cache ?? f.cache ?? null;
  if (detached(f)) return { text: DASH, marked: false };
  const unknown = unknownCell(f, 'cacheDirect');
  if (unknown) return unknown;
  if (f.cacheDirect === null) return { text: DASH, marked: false };
  const direct = f.cacheDirect ? 'direct' : 'not direct';
  if (cache) return { text: `${direct} (${cache})`, marked: false };
  const why = noteAfter(f, 'cache default → not direct ');
  if (why !== undefined) return { text: `default → not direct ${why}`, marked: true };
  return { text: `${direct} (default)`, marked: false };
}
