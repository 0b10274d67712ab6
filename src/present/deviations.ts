// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Deviations in words: why an effective disk fact is not what the config line suggests. The one
 * wording of `DiskFacts.deviations` for every front end (the CLI's notes, `--explain`, the JSON's
 * `notes`, the panel).
 */
import type { Deviation, DiskFacts, UnknownFact } from '../analysis/types.js';

const UNKNOWN_LABEL: Record<UnknownFact['field'], string> = {
  qemuDevice: 'the SCSI device type',
  cacheDirect: 'O_DIRECT',
  aio: 'the aio mode',
};

/** `a`, `a and b`, `a, b and c`. */
function andList(items: string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

/** Why `d.effective` differs, as the short phrase the table puts in parentheses (`lvm, cache=writeback`). */
export function aioDefaultWhy(d: Deviation): string | null {
  const b = d.because;
  if (b.code !== 'aio-default') return null;
  const why = [b.storage];
  if (!b.direct) why.push(b.cache ? `cache=${b.cache}` : b.cdrom ? 'cdrom' : 'cache not direct');
  return why.join(', ');
}

/** One deviation as a sentence. */
export function deviationText(d: Deviation): string {
  const b = d.because;
  switch (b.code) {
    case 'scsihw-not-single':
      return `iothread=1 ignored: scsihw ${b.scsihw}`;
    case 'scsihw-verbatim':
      return `scsihw '${b.scsihw}' is no PVE value: QEMU gets it verbatim as the controller driver`;
    case 'q35-ide-bus':
      return `q35: ide${b.index} sits on bus ide.${b.bus} (odd IDE indices move up by 2)`;
    case 'template-ide-cd':
      return `template: ${b.bus} disks are ide-cd (a template only starts for backups)`;
    case 'passthrough':
      return b.scsiblock
        ? 'passthrough: scsiblock=1 makes this scsi-block on the node when the path is a SCSI disk (a tape: scsi-generic); scsi-hd when it cannot be opened'
        : 'passthrough: a SCSI tape at this path becomes scsi-generic on the node';
    case 'old-machine-iscsi':
      return b.storageKnown
        ? 'machine < 4.1: an iscsi:// volume becomes scsi-generic'
        : 'machine < 4.1: scsi-generic if the storage is iSCSI (iscsidirect, ZFS over iSCSI), else scsi-hd';
    case 'storage-missing':
      return `storage '${b.storage}' is not in storage.cfg: facts assume a local file or block device`;
    case 'no-medium':
      return 'no medium (none): no block node, no aio';
    case 'native-needs-direct':
      return `aio=native: if storage '${b.storage}' is a file or block storage${b.directUnknown ? ' without O_DIRECT by default (btrfs without nocow)' : ''}, QEMU refuses to start (aio=native needs cache.direct=on)`;
    case 'cache-default-not-direct':
      // Whole literals (every CD-ROM drive has this note): one flat string, not one made per disk.
      return b.why === 'cdrom' ? 'cache default → not direct (cdrom)' : 'cache default → not direct (btrfs without nocow)';
    case 'storage-type-not-builtin':
      return `storage type '${b.type}' is not built in: assumed a file or /dev path (aio applies)`;
    case 'blockdev-no-aio':
      return d.configured ? `aio=${String(d.configured)} ignored: ${b.storage} gets no aio under -blockdev` : `no aio: ${b.storage} under -blockdev`;
    case 'aio-default':
      return `aio default → ${String(d.effective)} (${aioDefaultWhy(d)})`;
    case 'drive-aio-unverified':
      return `aio=${String(d.effective)} is passed with -drive; QEMU's ${b.driver} driver probably ignores it (unverified)`;
    case 'storage-type-unknown': {
      const what = andList(b.fields.map((f) => UNKNOWN_LABEL[f]));
      return `storage '${b.storage}' type unknown (${b.why}): ${what ? `${what} could not be determined` : 'no fact of this disk depends on it'}`;
    }
    case 'not-attached':
      return `not given to QEMU: ${b.reason}`;
  }
}

/** Every deviation of a disk in words (the JSON's and the CSV's `notes`, `--explain`'s note lines). */
export function notesOf(f: Pick<DiskFacts, 'deviations'>): string[] {
  return f.deviations.map(deviationText);
}

/** The first deviation with this code, typed by it. */
export function findDeviation<C extends Deviation['because']['code']>(
  f: Pick<DiskFacts, 'deviations'>,
  code: C,
): (Deviation & { because: Extract<Deviation['because'], { code: C }> }) | undefined {
  return f.deviations.find((d) => d.because.code === code) as (Deviation & { because: Extract<Deviation['because'], { code: C }> }) | undefined;
}
