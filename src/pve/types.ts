// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shared shapes of the PVE config model. Pure data, no behaviour: the parsers/printers live in
 * property-string.ts, drive.ts, vm-config.ts and storage-cfg.ts beside this file.
 *
 * NOTE: the model never drops what it does not understand. Unknown keys, invalid values and
 * unknown sections are kept (with an issue attached) so that a write can reproduce them.
 */

/** A problem found while reading config text. Always names where it is. */
export interface ConfigIssue {
  /** File path (offline) or `api:/nodes/pve1/qemu/100` (online); absent when unknown. */
  source?: string;
  /** 1-based line number in the file, when the text came from a file. */
  line?: number;
  /** Config key (e.g. `scsi0`) or property sub-key (e.g. `iothread`) concerned. */
  key?: string;
  /** Property sub-key of `key` concerned (e.g. `iothread` of `sata0`), when there is one. */
  subkey?: string;
  severity: 'error' | 'warning';
  message: string;
}

/** One `key=value` part of a property string, exactly as written. */
export interface PropertyPart {
  /** Canonical key (an alias such as `volume` is reported as written in `writtenKey`). */
  key: string;
  /** The key as written; `null` when the part was the implicit default key (`local:vm-1-disk-0`). */
  writtenKey: string | null;
  /** The value exactly as written (not URL-decoded, booleans not normalised). */
  value: string;
}

/** A parsed property string that prints back byte-exactly until it is changed. */
export interface PropertyString {
  parts: PropertyPart[];
}

export type DriveBus = 'ide' | 'sata' | 'scsi' | 'virtio';
export type DriveKeyKind = DriveBus | 'efidisk' | 'tpmstate' | 'unused';

export interface DriveKey {
  key: string;
  kind: DriveKeyKind;
  index: number;
}

/** A disk-like config entry (ideN, sataN, scsiN, virtioN, efidisk0, tpmstate0, unusedN). */
export interface Drive {
  key: string;
  kind: DriveKeyKind;
  index: number;
  /** The `file` value: `STORAGE:VOLNAME`, `none`, `cdrom` or an absolute path. */
  file: string;
  /** Storage id when `file` is `STORAGE:VOLNAME`, else null. */
  storage: string | null;
  /** All parts as written, in order (including the file part). */
  options: PropertyString;
  /** `media=cdrom` given explicitly. */
  isCdrom: boolean;
  /** Volume name matches PVE's cloud-init pattern (docs/how-qemu-server-decides.md#drive-keys). */
  isCloudinit: boolean;
  /** Problems PVE would have with this string (rejected key, conflicting options...). */
  issues: ConfigIssue[];
}

/** One `key: value` line of a config section. */
export interface ConfigEntry {
  key: string;
  value: string;
  /** 1-based line in the file; absent for entries that did not come from a file. */
  line?: number;
}

export interface PendingDelete {
  key: string;
  /** Written as `!key`: a forced delete (destroys the volume instead of making it unusedN). */
  force: boolean;
}

export type SectionKind = 'main' | 'pending' | 'special' | 'snapshot';

export interface ConfigSection {
  kind: SectionKind;
  /** '' for main, 'PENDING', 'special:cloudinit', or the snapshot name. */
  name: string;
  /** Decoded `#` comment lines joined with '\n' (PVE's description), or null. */
  description: string | null;
  /** Keys in file order; a repeated key keeps the last value (PVE: last line wins). */
  entries: Map<string, ConfigEntry>;
  /** Parsed `delete:` of a [PENDING] section; empty elsewhere. */
  deletes: PendingDelete[];
}

/** A whole `/etc/pve/.../<vmid>.conf` file. */
export interface VmConfigFile {
  vmid: number | null;
  source?: string;
  /** The exact text read. */
  raw: string;
  /** SHA-1 hex of the raw bytes, as PVE computes it. */
  digest: string;
  main: ConfigSection;
  pending: ConfigSection | null;
  special: ConfigSection[];
  snapshots: ConfigSection[];
  /** Lines of unknown `[...]` sections etc.; kept for the report, PVE ignores them. */
  issues: ConfigIssue[];
  /** Sections PVE skips (`[special:foo]`, `[1bad]`), with their lines, kept for the report. */
  unknownSections?: UnknownSection[];
}

/** A `[...]` section PVE does not know: it warns "skipping unknown section" and ignores its lines. */
export interface UnknownSection {
  /** The text between the brackets. */
  name: string;
  /** 1-based line of the header. */
  line: number;
  /** The section's lines as written (header excluded). */
  lines: string[];
}

/** One storage.cfg section. */
export interface StorageEntry {
  id: string;
  /** Plugin type: dir lvm lvmthin zfspool zfs nfs cifs cephfs rbd iscsi iscsidirect btrfs pbs esxi ... */
  type: string;
  /** Properties as written (`krbd` bare = '1'). */
  props: Record<string, string>;
}

export type StorageMap = Map<string, StorageEntry>;
