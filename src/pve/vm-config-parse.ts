// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Reading `/etc/pve/.../<vmid>.conf` text, mirroring qemu-server QemuServer.pm parse_vm_config
 * (docs/how-qemu-server-decides.md#reading-the-config). Never throws and never drops a line silently:
 * whatever PVE would warn about or ignore becomes an issue with its line number, and values are
 * kept as written.
 */
import type { ConfigIssue, ConfigSection, UnknownSection, VmConfigFile } from './types.js';
import { checkConfigValue, isKnownConfigKey } from './config-schema.js';
import { digestOf } from './digest.js';
import { decodeDescriptionLine } from './text-codec.js';
import { emptySection, parsePendingDelete } from './vm-config-model.js';

export interface ParseVmConfigOptions {
  /** The VM id; taken from a `.../<vmid>.conf` source path when not given. */
  vmid?: number;
  /** File path or `api:/nodes/<node>/qemu/<vmid>`; put into every issue. */
  source?: string;
  /** The exact bytes read, when the caller has them: the digest is computed over these. */
  bytes?: Uint8Array;
  /**
   * `digestOf(bytes)` computed by the caller with the platform's own SHA-1 (node:crypto is ~10x the
   * portable one, which was a tenth of an offline audit); taken as given.
   */
  digest?: string;
}

// Perl's \s and \S on ASCII: JS \s would also match Unicode spaces, which Perl on bytes does not.
const S = '[ \\t\\n\\r\\f\\v]';
const NS = '[^ \\t\\n\\r\\f\\v]';
const BLANK = new RegExp(`^${S}*$`);
const PENDING_HEADER = new RegExp(`^\\[PENDING\\]${S}*$`, 'i');
const SPECIAL_HEADER = new RegExp(`^\\[special:(cloudinit|fleecing)\\]${S}*$`, 'i');
const SNAPSHOT_HEADER = new RegExp(`^\\[([a-z][a-z0-9_\\-]+)\\]${S}*$`, 'i');
const ANY_HEADER = new RegExp(`^\\[(.*)\\]${S}*$`, 's');
const COMMENT = /^#(.*)$/s;
const DESCRIPTION = new RegExp(`^(description):${S}*(.*${NS})${S}*$`, 's');
const SNAPSTATE = new RegExp(`snapstate:${S}*(prepare|delete)${S}*$`);
const ARGS = new RegExp(`^(args):${S}*(.*${NS})${S}*$`, 's');
const DELETE = new RegExp(`^delete:${S}*(.*${NS})${S}*$`, 's');
const KEY_VALUE = new RegExp(`^([a-z][a-z_\\-]*\\d*):${S}*(.+?)${S}*$`, 's');
const TRAILING_WS = new RegExp(`${S}+$`);

function vmidFromSource(source: string | undefined): number | null {
  const m = source === undefined ? null : /(?:^|\/)(\d+)\.conf$/.exec(source);
  return m ? Number(m[1]) : null;
}

/**
 * Reads a VM config file. Never throws on content: problems are in `issues` (with line numbers),
 * unknown sections in `unknownSections`. Values are kept exactly as written (trimmed like PVE);
 * a repeated key keeps its last value; the legacy `cdrom:` key is read as `ide2`.
 */
export function parseVmConfig(raw: string, opts: ParseVmConfigOptions = {}): VmConfigFile {
  const source = opts.source;
  const vmid = opts.vmid ?? vmidFromSource(source);
  const issues: ConfigIssue[] = [];
  const issue = (line: number, severity: ConfigIssue['severity'], message: string, key?: string): void => {
    issues.push({
      ...(source !== undefined ? { source } : {}),
      line,
      ...(key !== undefined ? { key } : {}),
      severity,
      message: `${source ?? 'config'} line ${line}: ${message}`,
    });
  };

  const main = emptySection('main', '');
  let pending: ConfigSection | null = null;
  const special: ConfigSection[] = [];
  const snapshots: ConfigSection[] = [];
  const unknownSections: UnknownSection[] = [];

  let section: ConfigSection | null = main;
  let unknown: UnknownSection | null = null;
  let descr: string | null = null;
  const finishDescription = (): void => {
    if (descr !== null && section) section.description = descr.replace(TRAILING_WS, '');
    descr = null;
  };
  // A repeated section header starts the section afresh in PVE: the earlier one is lost.
  const replaced = (old: ConfigSection, lineNo: number): void => {
    issue(lineNo, 'warning', `section [${old.name}] appears again; PVE keeps only this later one`);
    for (const e of old.entries.values()) {
      if (e.line !== undefined) issue(e.line, 'warning', `'${e.key}' is lost: its section [${old.name}] appears again on line ${lineNo}`, e.key);
    }
  };
  const enter = (next: ConfigSection, list: ConfigSection[] | null, lineNo: number): void => {
    finishDescription();
    if (list) {
      const at = list.findIndex((s) => s.name === next.name);
      if (at >= 0) {
        replaced(list[at]!, lineNo);
        list.splice(at, 1);
      }
      list.push(next);
    }
    section = next;
    unknown = null;
  };

  const lines = raw.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    const first = line.charCodeAt(0);
    // Perl's \s: only a line that is empty or starts with one can be blank.
    if ((Number.isNaN(first) || first === 32 || (first >= 9 && first <= 13)) && BLANK.test(line)) continue;

    // Section headers start with `[`; most lines are `key: value`, and skip these tests.
    if (first === 91 && PENDING_HEADER.test(line)) {
      if (pending) replaced(pending, lineNo);
      pending = emptySection('pending', 'PENDING');
      enter(pending, null, lineNo);
      continue;
    }
    let m = first === 91 ? SPECIAL_HEADER.exec(line) : null;
    if (m) {
      enter(emptySection('special', `special:${m[1]!.toLowerCase()}`), special, lineNo);
      continue;
    }
    m = first === 91 ? SNAPSHOT_HEADER.exec(line) : null;
    if (m) {
      enter(emptySection('snapshot', m[1]!), snapshots, lineNo);
      continue;
    }
    m = first === 91 ? ANY_HEADER.exec(line) : null;
    if (m) {
      finishDescription();
      section = null;
      unknown = { name: m[1]!, line: lineNo, lines: [] };
      unknownSections.push(unknown);
      issue(lineNo, 'warning', `skipping unknown section '${m[1]}': PVE ignores it and every line up to the next section`);
      continue;
    }
    if (!section) {
      (unknown as UnknownSection | null)?.lines.push(line);
      continue;
    }
    const current: ConfigSection = section;

    m = first === 35 ? COMMENT.exec(line) : null;
    if (m) {
      descr = (descr ?? '') + decodeDescriptionLine(m[1]!) + '\n';
      continue;
    }
    m = line.startsWith('description:') ? DESCRIPTION.exec(line) : null;
    if (m) {
      descr = (descr ?? '') + decodeDescriptionLine(m[2]!) + '\n';
      continue;
    }
    // Not anchored at the start, as in PVE: anywhere in the line.
    m = line.includes('snapstate:') ? SNAPSTATE.exec(line) : null;
    if (m) {
      setEntry(current, 'snapstate', m[1]!, lineNo, issue);
      if (current.kind === 'main') issue(lineNo, 'warning', `'snapstate' in the main section is dropped by PVE`, 'snapstate');
      continue;
    }
    m = line.startsWith('args:') ? ARGS.exec(line) : null;
    if (m) {
      setEntry(current, 'args', m[2]!, lineNo, issue);
      continue;
    }
    m = line.startsWith('delete:') ? DELETE.exec(line) : null;
    if (m) {
      if (current.kind === 'pending') {
        current.deletes = parsePendingDelete(m[1]!);
      } else {
        issue(lineNo, 'error', `property 'delete' is only allowed in [PENDING]; PVE ignores this line`, 'delete');
      }
      continue;
    }
    m = KEY_VALUE.exec(line);
    if (m) {
      let key = m[1]!;
      const value = m[2]!;
      // Keys that share a slot with what the parser/writer manage themselves.
      if (key === 'description') {
        // A blank `description:` (only spaces) misses the description regex and lands here; PVE
        // then stores the value in the same slot, unless # lines of the section override it.
        current.description = current.kind === 'special' ? value : checkConfigValue(key, value).value;
        continue;
      }
      if (key === 'digest' || key === 'delete') {
        issue(lineNo, 'warning', `'${key}: ${clip(value)}' is ignored: ${key === 'digest' ? 'PVE computes the digest itself' : 'an empty delete list'}`, key);
        continue;
      }
      if (current.kind === 'special') {
        // [special:*] values are informational; PVE does not validate them.
        setEntry(current, key, value, lineNo, issue);
        continue;
      }
      if (!isKnownConfigKey(key)) {
        issue(lineNo, 'warning', `unknown setting '${key}': PVE ignores this key when it reads the file`, key);
      } else {
        const checked = checkConfigValue(key, value);
        if (checked.problem !== null) {
          issue(lineNo, 'error', `unable to parse value of '${key}' - ${checked.problem}; PVE drops this key when it reads the file`, key);
        }
      }
      if (key === 'cdrom') {
        key = 'ide2';
        issue(lineNo, 'warning', `legacy key 'cdrom' is read as 'ide2'`, 'cdrom');
      }
      setEntry(current, key, value, lineNo, issue);
      continue;
    }
    issue(lineNo, 'error', `unable to parse config line '${clip(line)}': expected 'key: value', '#comment' or '[section]'; PVE ignores it`);
  }
  finishDescription();

  return {
    vmid,
    ...(source !== undefined ? { source } : {}),
    raw,
    digest: opts.digest ?? digestOf(opts.bytes ?? raw),
    main,
    pending,
    special,
    snapshots,
    issues,
    ...(unknownSections.length > 0 ? { unknownSections } : {}),
  };
}

function setEntry(
  section: ConfigSection,
  key: string,
  value: string,
  line: number,
  issue: (line: number, severity: ConfigIssue['severity'], message: string, key?: string) => void,
): void {
  const previous = section.entries.get(key);
  if (previous) {
    // Reported at the line that loses, so that every dropped line carries an issue.
    const lost = previous.line ?? line;
    issue(lost, 'warning', `duplicate key '${key}': line ${line} sets it again and PVE keeps only that last value`, key);
  }
  section.entries.set(key, { key, value, line });
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

