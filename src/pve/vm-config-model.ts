// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Pure helpers on the VM config model (types.ts): section lookup, values, edits and the
 * `[PENDING]` `delete:` list (pve-guest-common AbstractConfig parse_pending_delete /
 * print_pending_delete, docs/how-qemu-server-decides.md#reading-the-config). Every edit returns a new VmConfigFile; `raw` and `digest`
 * keep describing the text that was read until the file is printed again.
 */
import type { ConfigEntry, ConfigSection, PendingDelete, SectionKind, VmConfigFile } from './types.js';
import { byteOrder } from './property-string.js';

/**
 * Names a section: `main`, `pending`, `special:<name>` (e.g. `special:cloudinit`), or a snapshot
 * name.
 */
export type SectionRef = 'main' | 'pending' | (string & {});

/** A new, empty section. */
export function emptySection(kind: SectionKind, name: string): ConfigSection {
  return { kind, name, description: null, entries: new Map(), deletes: [] };
}

function cloneSection(s: ConfigSection): ConfigSection {
  return { ...s, entries: new Map(s.entries), deletes: s.deletes.map((d) => ({ ...d })) };
}

/** A deep copy of the file model (sections and their maps are new objects). */
export function cloneConfigFile(file: VmConfigFile): VmConfigFile {
  return {
    ...file,
    main: cloneSection(file.main),
    pending: file.pending ? cloneSection(file.pending) : null,
    special: file.special.map(cloneSection),
    snapshots: file.snapshots.map(cloneSection),
    issues: [...file.issues],
    ...(file.unknownSections ? { unknownSections: file.unknownSections.map((u) => ({ ...u, lines: [...u.lines] })) } : {}),
  };
}

/** The section `ref` names, or null when the file has none. */
export function findSection(file: VmConfigFile, ref: SectionRef): ConfigSection | null {
  if (ref === 'main') return file.main;
  if (ref === 'pending') return file.pending;
  if (ref.startsWith('special:')) return file.special.find((s) => s.name === ref) ?? null;
  return file.snapshots.find((s) => s.name === ref) ?? null;
}

/** Returns a copy of `file` in which the section `ref` exists (created empty when missing). */
function withSection(file: VmConfigFile, ref: SectionRef): { file: VmConfigFile; section: ConfigSection } {
  const copy = cloneConfigFile(file);
  let section = findSection(copy, ref);
  if (!section) {
    if (ref === 'pending') {
      section = emptySection('pending', 'PENDING');
      copy.pending = section;
    } else if (ref.startsWith('special:')) {
      section = emptySection('special', ref);
      copy.special.push(section);
    } else {
      section = emptySection('snapshot', ref);
      copy.snapshots.push(section);
    }
  }
  return { file: copy, section };
}

/**
 * The section's values as the API lists them: every entry (raw text), plus `description` when set.
 * The pending `delete:` list is not included (see `section.deletes`).
 */
export function configValues(section: ConfigSection): Record<string, string> {
  const out: Record<string, string> = {};
  if (section.description !== null) out.description = section.description;
  for (const [key, entry] of section.entries) out[key] = entry.value;
  return out;
}

/**
 * Returns a copy with `key` set in section `ref` (created if needed). `description` sets the
 * section's description; `delete` in `pending` replaces the pending delete list.
 */
export function setConfigValue(file: VmConfigFile, ref: SectionRef, key: string, value: string): VmConfigFile {
  const { file: copy, section } = withSection(file, ref);
  if (key === 'description') {
    section.description = value;
  } else if (key === 'delete' && section.kind === 'pending') {
    section.deletes = parsePendingDelete(value);
  } else {
    const entry: ConfigEntry = { key, value };
    section.entries.set(key, entry);
  }
  return copy;
}

/** Returns a copy without `key` in section `ref` (`description` clears the description). */
export function deleteConfigKey(file: VmConfigFile, ref: SectionRef, key: string): VmConfigFile {
  if (!findSection(file, ref)) return file;
  const { file: copy, section } = withSection(file, ref);
  if (key === 'description') section.description = null;
  else if (key === 'delete') section.deletes = [];
  else section.entries.delete(key);
  return copy;
}

/** Returns a copy whose `[PENDING]` deletes `key` (`force`: written `!key`). */
export function addPendingDelete(file: VmConfigFile, key: string, force = false): VmConfigFile {
  const { file: copy, section } = withSection(file, 'pending');
  section.deletes = [...section.deletes.filter((d) => d.key !== key), { key, force }];
  return copy;
}

/** Returns a copy whose `[PENDING]` no longer deletes `key`. */
export function removePendingDelete(file: VmConfigFile, key: string): VmConfigFile {
  if (!file.pending) return file;
  const { file: copy, section } = withSection(file, 'pending');
  section.deletes = section.deletes.filter((d) => d.key !== key);
  return copy;
}

/**
 * parse_pending_delete: separators `,` `;` and whitespace; `!key` is a forced delete; a key given
 * twice counts once, its last spelling deciding `force`. Sorted by key, as PVE holds a hash.
 */
export function parsePendingDelete(text: string): PendingDelete[] {
  const byKey = new Map<string, boolean>();
  for (const word of text.replace(/[,;]/g, ' ').trim().split(/[ \t\n\r\f\v]+/)) {
    if (word === '') continue;
    const force = word.startsWith('!');
    byKey.set(force ? word.slice(1) : word, force);
  }
  return [...byKey.keys()].sort(byteOrder).map((key) => ({ key, force: byKey.get(key)! }));
}

/** print_pending_delete: sorted, comma-joined, `!` for forced deletes. */
export function printPendingDelete(deletes: readonly PendingDelete[]): string {
  const byKey = new Map<string, boolean>();
  for (const d of deletes) byKey.set(d.key, d.force);
  return [...byKey.keys()]
    .sort(byteOrder)
    .map((k) => `${byKey.get(k) ? '!' : ''}${k}`)
    .join(',');
}
