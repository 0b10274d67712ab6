// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/etc/pve/storage.cfg`, a pve-common SectionConfig file (docs/how-qemu-server-decides.md#api): a `type: id` header
 * starts a section, indented `key value` lines follow (a bare `key` means 1), a blank line ends
 * the section, `#` lines are skipped anywhere.
 */
import { parsePveBoolean } from './property-string.js';
import type { ConfigIssue, StorageEntry, StorageMap } from './types.js';

// Perl's \s / \S on ASCII (see vm-config-parse.ts).
const S = '[ \\t\\n\\r\\f\\v]';
const NS = '[^ \\t\\n\\r\\f\\v]';
const COMMENT = new RegExp(`^${S}*#`);
const HEADER = new RegExp(`^(${NS}+):${S}*(${NS}+)${S}*$`);
const PROPERTY = new RegExp(`^${S}+(${NS}+)(${S}+(.*${NS}))?${S}*$`, 's');
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
/**
 * Boolean storage properties the audit reads. In storage.cfg a boolean is `1` or `0` only
 * (pve-common JSONSchema `check_type`, called from SectionConfig `check_value`): unlike a VM
 * config, `krbd yes` fails the check and PVE drops the property with a warning, so that RBD
 * storage runs librbd.
 */
const BOOLEAN_PROPERTIES: ReadonlySet<string> = new Set(['krbd', 'nocow', 'shared', 'disable']);

/**
 * Reads storage.cfg. Never throws: skipped sections and lines are reported as issues with their
 * line numbers; properties are kept as written (bare keys as `'1'`), except a boolean PVE would
 * refuse, which is dropped as PVE drops it.
 */
export function parseStorageCfg(text: string, source?: string): { storages: StorageMap; issues: ConfigIssue[] } {
  const storages: StorageMap = new Map();
  const issues: ConfigIssue[] = [];
  const issue = (line: number, message: string, key?: string): void => {
    issues.push({
      ...(source !== undefined ? { source } : {}),
      line,
      ...(key !== undefined ? { key } : {}),
      severity: 'warning',
      message: `${source ?? 'storage.cfg'} line ${line}: ${message}`,
    });
  };

  const lines = text.split('\n');
  let i = 0;
  // SectionConfig's $nextline: the next line that is not a comment, with its 1-based number.
  const next = (): { line: string; no: number } | null => {
    while (i < lines.length) {
      const line = lines[i]!;
      i++;
      if (!COMMENT.test(line)) return { line, no: i };
    }
    return null;
  };

  for (let cur = next(); cur; cur = next()) {
    if (cur.line === '') continue;
    const header = HEADER.exec(cur.line);
    if (!header) {
      issue(cur.no, `syntax error: expected 'type: id' to start a section, got '${clip(cur.line)}'; PVE ignores this line`);
      continue;
    }
    const type = header[1]!.toLowerCase();
    const id = header[2]!;
    let skip = false;
    if (!STORAGE_ID.test(id)) {
      issue(cur.no, `skip section '${id}': invalid storage ID`, id);
      skip = true;
    } else if (storages.has(id)) {
      issue(cur.no, `skip section '${id}': duplicate storage ID`, id);
      skip = true;
    }
    const entry: StorageEntry = { id, type, props: {} };
    // A section ends at the first empty line (a line of spaces does not end it).
    for (let prop = next(); prop && prop.line !== ''; prop = next()) {
      if (skip) continue;
      const m = PROPERTY.exec(prop.line);
      if (!m) {
        issue(prop.no, `syntax error in section '${id}': expected an indented 'key value' line, got '${clip(prop.line)}'`, id);
        continue;
      }
      const key = m[1]!;
      if (Object.hasOwn(entry.props, key)) {
        issue(prop.no, `duplicate attribute '${key}' in section '${id}'; PVE ignores this line`, id);
        continue;
      }
      const value = m[3] ?? '1';
      if (BOOLEAN_PROPERTIES.has(key) && value !== '1' && value !== '0') {
        issue(prop.no, `'${key} ${clip(value)}' in section '${id}': PVE takes only 1 or 0 here and ignores the property, so '${key}' is off; write '${key} 1' if you mean it`, id);
        continue;
      }
      entry.props[key] = value;
    }
    if (!skip) storages.set(id, entry);
  }
  ensureLocal(storages);
  return { storages, issues };
}

/**
 * pve-storage Plugin.pm `parse_config`: every node has a `local` storage of type dir at /var/lib/vz,
 * whatever the file says. A missing `local`, one of another type or with another path is replaced
 * (content: every type a dir holds); a written path of /var/lib/vz is kept, a missing one set; node
 * restrictions are dropped. So a VM disk on `local:` is never on a missing storage.
 */
function ensureLocal(storages: StorageMap): void {
  const local = storages.get('local');
  if (!local || local.type !== 'dir' || (local.props.path !== undefined && local.props.path !== '/var/lib/vz')) {
    storages.set('local', { id: 'local', type: 'dir', props: { path: '/var/lib/vz', content: 'backup,images,iso,rootdir,snippets,vztmpl' } });
    return;
  }
  local.props.path ??= '/var/lib/vz';
  delete local.props.nodes;
}

/**
 * Content types per built-in storage plugin (pve-storage `plugindata`: what a `content` line may list,
 * and the default a section without one gets). GlusterFS is PVE 8's (dropped in pve-storage 9).
 */
const PLUGIN_CONTENT: Readonly<Record<string, { valid: readonly string[]; byDefault: readonly string[] }>> = {
  dir: { valid: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'none', 'import'], byDefault: ['images', 'rootdir'] },
  btrfs: { valid: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'none', 'import'], byDefault: ['images', 'rootdir'] },
  nfs: { valid: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'], byDefault: ['images'] },
  cifs: { valid: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'], byDefault: ['images'] },
  glusterfs: { valid: ['images', 'vztmpl', 'iso', 'backup', 'snippets', 'import'], byDefault: ['images'] },
  cephfs: { valid: ['vztmpl', 'iso', 'backup', 'snippets', 'import'], byDefault: ['backup'] },
  lvm: { valid: ['images', 'rootdir'], byDefault: ['images'] },
  lvmthin: { valid: ['images', 'rootdir'], byDefault: ['images', 'rootdir'] },
  zfspool: { valid: ['images', 'rootdir'], byDefault: ['images', 'rootdir'] },
  zfs: { valid: ['images'], byDefault: ['images'] },
  rbd: { valid: ['images', 'rootdir'], byDefault: ['images'] },
  iscsi: { valid: ['images', 'none'], byDefault: ['images'] },
  iscsidirect: { valid: ['images', 'none'], byDefault: ['images'] },
  pbs: { valid: ['backup', 'none'], byDefault: ['backup'] },
  esxi: { valid: ['import'], byDefault: ['import'] },
};

/**
 * The content types PVE holds for a storage (what qemu-server's `check_volume_storage_type` tests):
 * the written `content` list (split like pve-common `split_list`) without the types its plugin does
 * not take (pve-storage Plugin.pm `decode_value` drops those with a warning), or the plugin's default
 * when the section has no `content` line (Plugin.pm `parse_config`). The API's `/storage` answer
 * already holds the result, which this leaves as it is. Null for a plugin not built into pve-storage.
 */
export function storageContent(storage: StorageEntry): ReadonlySet<string> | null {
  const plugin = PLUGIN_CONTENT[storage.type];
  if (!plugin) return null;
  const written = storage.props.content;
  const known = CONTENT_SEEN.get(storage);
  if (known && known.written === written) return known.content;
  const content = new Set(written === undefined ? plugin.byDefault : splitList(written).filter((c) => plugin.valid.includes(c)));
  CONTENT_SEEN.set(storage, { written, content });
  return content;
}

/** Per storage entry (asked once per disk of a fleet): the content set and the line it was read from. */
const CONTENT_SEEN = new WeakMap<StorageEntry, { written: string | undefined; content: ReadonlySet<string> }>();

/** pve-storage `storage_check_enabled`: the section is not set `disable`. */
export function storageEnabled(storage: StorageEntry): boolean {
  const disable = storage.props.disable;
  return disable === undefined || parsePveBoolean(disable) !== true;
}

/** pve-storage `storage_check_node`: the section's `nodes` list names `node` (no list: every node). */
export function storageOnNode(storage: StorageEntry, node: string): boolean {
  const nodes = storage.props.nodes;
  return nodes === undefined || splitList(nodes).includes(node);
}

/** pve-common `split_list`: a list written with commas, semicolons or white space. */
function splitList(text: string): string[] {
  return text.split(/[,;\s]+/).filter((item) => item !== '');
}

/**
 * Writes storage sections in SectionConfig's layout (`type: id`, tab-indented `key value` lines,
 * one empty line between sections), in map order. Not byte-exact with PVE, which orders
 * properties by its plugin schemas.
 */
export function printStorageCfg(storages: StorageMap): string {
  const blocks: string[] = [];
  for (const s of storages.values()) {
    let block = `${s.type}: ${s.id}\n`;
    for (const [k, v] of Object.entries(s.props)) block += `\t${k} ${v}\n`;
    blocks.push(block);
  }
  return blocks.join('\n');
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
