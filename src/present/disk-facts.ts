// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Human text of each disk fact, the one wording of the CLI (table, --explain) and the panel. A value
 * that differs from what the config suggests says so (`iothread=1 (ignored: scsihw lsi)`,
 * `default → native (lvm)`), from the facts' structured deviations; a value that could not be
 * determined reads `unknown (<why>)`, marked, never a guess.
 */
import { unknownReason } from '../analysis/disk-status.js';
import type { DiskFacts, UnknownFact } from '../analysis/types.js';
import { aioDefaultWhy, findDeviation } from './deviations.js';

/** Whether the text should be highlighted as "not what the config suggests". */
export interface Cell {
  text: string;
  marked: boolean;
}

const DASH = '—';

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
  const template = findDeviation(f, 'template-ide-cd') !== undefined && f.qemuDevice === 'ide-cd';
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
    const ignored = findDeviation(f, 'scsihw-not-single');
    const why = ignored ? `scsihw ${ignored.because.scsihw}` : 'not attached';
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
    const blockdev = findDeviation(f, 'blockdev-no-aio');
    const detail = blockdev ? `${blockdev.because.storage}, -blockdev` : 'no aio';
    // Never "aio none": QEMU's driver for this storage takes no aio at all.
    return configured ? { text: `aio=${configured} ignored (${detail})`, marked: true } : { text: detail === 'no aio' ? detail : `no aio (${detail})`, marked: false };
  }
  if (configured) return { text: effective, marked: false };
  const byDefault = findDeviation(f, 'aio-default');
  if (byDefault) return { text: `default → ${effective} (${aioDefaultWhy(byDefault)})`, marked: true };
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
  const notDirect = findDeviation(f, 'cache-default-not-direct');
  // Whole literals (every CD-ROM drive shows one): one flat string, not one made per disk.
  if (notDirect) return { text: notDirect.because.why === 'cdrom' ? 'default → not direct (cdrom)' : 'default → not direct (btrfs without nocow)', marked: true };
  return { text: `${direct} (default)`, marked: false };
}

/** The drive is a CD/DVD drive set to "Do not use any media" (`none`): no block node, nothing else to say. */
function noMedium(f: DiskFacts): boolean {
  return findDeviation(f, 'no-medium') !== undefined;
}

/**
 * The start errors of a disk, one line each: what QEMU/qemu-server refuses now, and what it will
 * refuse after the next cold start when the pending changes bring a different error.
 */
export function startErrorLines(d: Pick<DiskFacts, 'startError'>, pending: Pick<DiskFacts, 'startError'> | null): string[] {
  const lines: string[] = [];
  if (d.startError) lines.push(`the VM does not start: ${d.startError}`);
  if (pending?.startError && pending.startError !== d.startError) lines.push(`after the next cold start the VM does not start: ${pending.startError}`);
  return lines;
}

/**
 * One line of a disk's facts (the panel's fleet table): `scsi-hd on virtio-scsi-pci, iothread on,
 * aio io_uring`; the aio part as `aioCell` words it (`no aio (librbd, -blockdev)`, `default → native
 * (lvm)`, `unknown (why)`), an empty drive as `no medium`.
 */
export function diskSummary(f: DiskFacts): string {
  const head = `${f.qemuDevice ?? '-'}${f.controller ? ` on ${f.controller}` : ''}`;
  if (noMedium(f)) return `${head}, no medium`;
  const aio = aioCell(f).text;
  return `${head}, iothread ${f.iothread.effective ? 'on' : 'off'}, ${f.aio.effective !== null || aio.startsWith('unknown') ? `aio ${aio}` : aio}`;
}

/** PVE's UI word for a disk without `aio` (its Async IO field reads "Default (io_uring)"). */
export const DEFAULT_AIO_LABEL = 'Default (io_uring)';

/** QEMU runs the disk with another IO thread setting than configured (`iothread=1` ignored). */
export function iothreadDiffers(f: Pick<DiskFacts, 'iothread'>): boolean {
  return f.iothread.configured !== f.iothread.effective;
}

/**
 * QEMU runs another aio mode than the config shows. With no `aio` configured PVE's UI shows
 * "Default (io_uring)", so an effective mode other than io_uring differs too; no aio at all
 * (librbd, no medium) is not a mode and does not.
 */
export function aioDiffers(f: Pick<DiskFacts, 'aio'>): boolean {
  if (f.aio.effective === null) return false;
  return (f.aio.configured ?? 'io_uring') !== f.aio.effective;
}

/**
 * One short line per fact QEMU runs otherwise than configured, in PVE's UI words (the panel's
 * marks): `iothread configured on, runs off`, `aio configured Default (io_uring), runs threads`.
 */
export function differenceMarks(f: Pick<DiskFacts, 'iothread' | 'aio'>): string[] {
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  const marks: string[] = [];
  if (iothreadDiffers(f)) marks.push(`iothread configured ${onOff(f.iothread.configured)}, runs ${onOff(f.iothread.effective)}`);
  if (aioDiffers(f)) marks.push(`aio configured ${f.aio.configured ?? DEFAULT_AIO_LABEL}, runs ${f.aio.effective}`);
  return marks;
}

/** The detail window's IO thread cell, configured / effective: `on / off`. */
export function iothreadPair(f: Pick<DiskFacts, 'iothread'>): string {
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  return `${onOff(f.iothread.configured)} / ${onOff(f.iothread.effective)}`;
}

/** The detail window's Async IO cell, configured / effective: `Default (io_uring) / default → native (lvm)`. */
export function aioPair(f: DiskFacts): string {
  return `${f.aio.configured ?? DEFAULT_AIO_LABEL} / ${aioCell(f).text}`;
}
