// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The slice of Windows PowerShell 5.1 the simulated Windows guest runs through `guest-exec`:
 * `Get-Disk` (optionally `-Number`/`-SerialNumber`/`-FriendlyName`) piped through
 * `Where-Object` (`Prop -eq 'v'` or `{ $_.Prop -eq 'v' -and ... }`), `Select-Object`,
 * `ForEach-Object { $_.Prop }`, `Sort-Object`, size literals (`2GB`), `Measure-Object`, `ConvertTo-Json`,
 * `Format-Table`/`Format-List`, `Out-String`; `(pipeline).Prop` / `@(...).Count`; statements
 * separated by `;`; `Update-HostStorageCache`. Anything else fails like PowerShell does
 * ("The term ... is not recognized"), exit code 1. Output lines end in CRLF.
 */
import type { GuestDisk } from './guest-disks.js';

export interface ProcessResult {
  exitcode: number;
  out: string;
  err: string;
}

type PsValue = string | number | boolean | null | PsObject;
interface PsObject {
  /** Type name, to pick the default view (`MSFT_Disk` gets Get-Disk's table). */
  type: string;
  props: Record<string, PsValue>;
}

class PsError extends Error {}

const isObj = (v: PsValue): v is PsObject => typeof v === 'object' && v !== null;

/** MSFT_Disk objects as Get-Disk returns them. */
function diskObjects(disks: readonly GuestDisk[], uefi: boolean): PsObject[] {
  return disks
    .filter((d) => !d.cdrom)
    .map((d, i) => {
      const scsi = d.bus === 'scsi' || d.bus === 'virtio';
      const viostor = d.bus === 'virtio';
      const busType = d.bus === 'sata' ? 'SATA' : d.bus === 'ide' ? 'ATA' : viostor ? 'SCSI' : d.scsihw === 'megasas' ? 'RAID' : d.scsihw?.startsWith('lsi') ? 'SCSI' : 'SAS';
      const manufacturer = viostor ? 'Red Hat' : scsi ? 'QEMU' : '';
      const model = viostor ? 'VirtIO' : 'QEMU HARDDISK';
      return {
        type: 'MSFT_Disk',
        props: {
          Number: i,
          FriendlyName: manufacturer ? `${manufacturer} ${model}` : model,
          SerialNumber: d.serial === '' ? null : d.serial,
          HealthStatus: 'Healthy',
          OperationalStatus: 'Online',
          Size: d.sizeBytes,
          PartitionStyle: d.boot ? (uefi ? 'GPT' : 'MBR') : 'RAW',
          BusType: busType,
          Manufacturer: manufacturer,
          Model: model,
          IsBoot: d.boot,
          IsSystem: d.boot,
          IsOffline: false,
          NumberOfPartitions: d.boot ? (uefi ? 4 : 2) : 0,
          Location: `PCIROOT(0)#PCI(${String(d.controller + 5).padStart(2, '0')}00)#${d.bus.toUpperCase()}(P00T${String(d.unit).padStart(2, '0')}L00)`,
        },
      };
    });
}

// --- tokens ------------------------------------------------------------------------------------

/** Splits on `sep` outside quotes, braces and parentheses. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '{' || ch === '(') depth++;
    else if (ch === '}' || ch === ')') depth--;
    else if (ch === sep && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quote || depth !== 0) throw new PsError('Missing closing quote or bracket.');
  parts.push(cur);
  return parts.map((p) => p.trim());
}

/** Words of one pipeline stage; quoted strings and `{...}` blocks stay whole. */
function words(stage: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'|"([^"]*)"|(\{[\s\S]*\})|([^\s,]+(?:,[^\s,]+)*)/g;
  for (const m of stage.matchAll(re)) out.push(m[1] !== undefined ? `'${m[1]}` : m[2] !== undefined ? `'${m[2]}` : (m[3] ?? m[4]!));
  return out;
}

/** A literal: `'x` (marked quoted by words()), numbers, $true/$false/$null, bare words. */
function literal(w: string): PsValue {
  if (w.startsWith("'")) return w.slice(1).replace(/''/g, "'");
  if (/^\$true$/i.test(w)) return true;
  if (/^\$false$/i.test(w)) return false;
  if (/^\$null$/i.test(w)) return null;
  if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
  // Size literals: 2GB = 2 * 1024^3.
  const size = /^(\d+(?:\.\d+)?)(kb|mb|gb|tb|pb)$/i.exec(w);
  if (size) return Number(size[1]) * 1024 ** (['kb', 'mb', 'gb', 'tb', 'pb'].indexOf(size[2]!.toLowerCase()) + 1);
  return w;
}

function prop(v: PsValue, name: string): PsValue {
  if (!isObj(v)) return null;
  const key = Object.keys(v.props).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : v.props[key]!;
}

function compare(op: string, a: PsValue, b: PsValue): boolean {
  const cs = /^-c/i.test(op);
  const o = op.toLowerCase().replace(/^-[ci]?/, '');
  const norm = (x: PsValue) => (typeof x === 'string' && !cs ? x.toLowerCase() : x);
  const [x, y] = [norm(a), norm(b)];
  const num = (v: PsValue) => (typeof v === 'number' ? v : Number(v));
  switch (o) {
    case 'eq': return typeof x === 'number' || typeof y === 'number' ? x !== null && y !== null && num(x) === num(y) : x === y;
    case 'ne': return !compare(op.replace(/ne$/i, 'eq'), a, b);
    case 'gt': return num(a) > num(b);
    case 'ge': return num(a) >= num(b);
    case 'lt': return num(a) < num(b);
    case 'le': return num(a) <= num(b);
    case 'like':
    case 'notlike': {
      const re = new RegExp(`^${String(y ?? '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, cs ? '' : 'i');
      const hit = x !== null && re.test(String(a));
      return o === 'like' ? hit : !hit;
    }
    case 'match': return a !== null && new RegExp(String(b), cs ? '' : 'i').test(String(a));
    default: throw new PsError(`Unexpected token '${op}' in expression or statement.`);
  }
}

/** `$_.A -eq 'x' -and $_.B -like 'y*'` (left to right, no parentheses). */
function blockPredicate(block: string): (v: PsValue) => boolean {
  const body = block.replace(/^\{|\}$/g, '').trim();
  const parts = body.split(/\s+(-and|-or)\s+/i);
  const tests = parts.filter((_, i) => i % 2 === 0).map((cond) => {
    const m = /^\$_\.(\w+)\s+(-\w+)\s+(.+)$/.exec(cond.trim());
    if (!m) throw new PsError(`The simulated guest cannot evaluate '${cond.trim()}'.`);
    const value = literal(words(m[3]!)[0] ?? '');
    return (v: PsValue) => compare(m[2]!, prop(v, m[1]!), value);
  });
  const joins = parts.filter((_, i) => i % 2 === 1).map((j) => j.toLowerCase());
  return (v) => tests.slice(1).reduce((acc, t, i) => (joins[i] === '-and' ? acc && t(v) : acc || t(v)), tests[0]!(v));
}

/** Named parameters of a cmdlet (`-Name value`, switches as true) and the positional rest. */
function params(ws: string[], switches: readonly string[]): { named: Record<string, string>; positional: string[] } {
  const named: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (/^-[A-Za-z]/.test(w)) {
      const name = w.slice(1).toLowerCase();
      if (switches.includes(name)) named[name] = 'true';
      else named[name] = ws[++i] ?? '';
    } else positional.push(w);
  }
  return { named, positional };
}

// --- cmdlets -----------------------------------------------------------------------------------

const ALIASES: Record<string, string> = {
  '?': 'where-object', where: 'where-object', select: 'select-object', '%': 'foreach-object', foreach: 'foreach-object',
  measure: 'measure-object', sort: 'sort-object', ft: 'format-table', fl: 'format-list',
};

type Stage = (input: PsValue[]) => PsValue[];

function stage(text: string, env: { disks: PsObject[] }): Stage {
  const ws = words(text);
  const name = ws[0] ?? '';
  const cmd = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  const rest = ws.slice(1);
  switch (cmd) {
    case 'get-disk': {
      const { named, positional } = params(rest, []);
      const filters: Array<[string, string]> = [];
      if (named.number ?? positional[0]) filters.push(['Number', named.number ?? positional[0]!]);
      if (named.serialnumber) filters.push(['SerialNumber', named.serialnumber]);
      if (named.friendlyname) filters.push(['FriendlyName', named.friendlyname]);
      return () => {
        let out: PsValue[] = env.disks;
        for (const [p, raw] of filters) {
          const want = literal(raw);
          out = out.filter((d) => compare(p === 'Number' ? '-eq' : '-like', prop(d, p), want));
          if (out.length === 0) {
            throw new PsError(`Get-Disk : No MSFT_Disk objects found with property '${p}' equal to '${String(want)}'.  Verify the value of the property and retry.`);
          }
        }
        return out;
      };
    }
    case 'update-hoststoragecache':
      return () => [];
    case 'where-object': {
      if (rest[0]?.startsWith('{')) {
        const test = blockPredicate(rest[0]);
        return (input) => input.filter(test);
      }
      const { named, positional } = params(rest, []);
      const opIndex = rest.findIndex((w) => /^-c?(eq|ne|like|notlike|match|gt|ge|lt|le)$/i.test(w));
      if (opIndex < 0) throw new PsError('Where-Object : The simulated guest needs `Where-Object Prop -eq value`.');
      const op = rest[opIndex]!;
      const property = named.property ?? positional[0] ?? '';
      const value = literal(named.value ?? rest[opIndex + 1] ?? '');
      return (input) => input.filter((v) => compare(op, prop(v, property), value));
    }
    case 'select-object': {
      const { named, positional } = params(rest, ['unique']);
      const expand = named.expandproperty;
      const names = (named.property ?? positional[0] ?? '').split(',').filter(Boolean);
      const firstN = named.first !== undefined ? Number(named.first) : undefined;
      return (input) => {
        let out = firstN !== undefined ? input.slice(0, firstN) : input;
        if (expand) out = out.map((v) => prop(v, expand));
        else if (names.length > 0) out = out.map((v) => ({ type: 'PSCustomObject', props: Object.fromEntries(names.map((n) => [n, prop(v, n)])) }));
        return out;
      };
    }
    case 'foreach-object': {
      const m = /^\{\s*\$_\.(\w+)\s*\}$/.exec(rest[0] ?? '');
      if (!m) throw new PsError('ForEach-Object : The simulated guest runs only `ForEach-Object { $_.Prop }`.');
      return (input) => input.map((v) => prop(v, m[1]!));
    }
    case 'sort-object': {
      const { named, positional } = params(rest, ['descending']);
      const p = named.property ?? positional[0];
      const sign = named.descending ? -1 : 1;
      return (input) => [...input].sort((a, b) => {
        const [x, y] = p ? [prop(a, p), prop(b, p)] : [a, b];
        return (x === y ? 0 : String(x) < String(y) || (typeof x === 'number' && typeof y === 'number' && x < y) ? -1 : 1) * sign;
      });
    }
    case 'measure-object':
      return (input) => [{ type: 'GenericMeasureInfo', props: { Count: input.length, Average: null, Sum: null, Maximum: null, Minimum: null, Property: null } }];
    case 'convertto-json': {
      const { named } = params(rest, ['compress']);
      return (input) => [toJson(input.length === 1 ? input[0]! : input, named.compress !== undefined)];
    }
    case 'format-table':
    case 'format-list':
    case 'out-string': {
      const { positional } = params(rest, ['autosize']);
      const names = (positional[0] ?? '').split(',').filter(Boolean);
      return (input) => [format(input, cmd === 'format-list' ? 'list' : cmd === 'format-table' ? 'table' : undefined, names)];
    }
    default:
      throw new PsError(
        `${name} : The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
      );
  }
}

// --- output ------------------------------------------------------------------------------------

function plain(v: PsValue): unknown {
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v.props).map(([k, x]) => [k, plain(x)]));
}

/** ConvertTo-Json: 4-space indentation like PowerShell 5.1's pretty printer (close enough). */
function toJson(v: PsValue | PsValue[], compress: boolean): string {
  const data = Array.isArray(v) ? v.map(plain) : plain(v);
  return compress ? JSON.stringify(data) : JSON.stringify(data, null, 4);
}

function show(v: PsValue): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isObj(v)) return `@{${Object.entries(v.props).map(([k, x]) => `${k}=${show(x)}`).join('; ')}}`;
  return String(v);
}

/** Get-Disk's default view shows the size the way the disk format data does (e.g. `80 GB`). */
function humanSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(2)} ${units[i]}`;
}

function table(rows: PsObject[], names: string[]): string {
  const cells = rows.map((r) => names.map((n) => (r.type === 'MSFT_Disk' && n === 'Total Size' ? humanSize(Number(r.props.Size)) : show(prop(r, n.replace(/ /g, ''))))));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join(' ').trimEnd();
  return ['', line(names), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '', ''].join('\n');
}

function list(rows: PsObject[], names: string[]): string {
  const blocks = rows.map((r) => {
    const keys = names.length > 0 ? names : Object.keys(r.props);
    const w = Math.max(...keys.map((k) => k.length));
    return keys.map((k) => `${k.padEnd(w)} : ${show(prop(r, k))}`.trimEnd()).join('\n');
  });
  return ['', blocks.join('\n\n'), '', ''].join('\n');
}

const DISK_VIEW = ['Number', 'Friendly Name', 'Serial Number', 'HealthStatus', 'OperationalStatus', 'Total Size', 'Partition Style'];

/** Out-Default: scalars one per line; objects as a table (<= 4 properties) or a list, disks in Get-Disk's view. */
function format(values: PsValue[], view?: 'table' | 'list', names: string[] = []): string {
  const out: string[] = [];
  let objs: PsObject[] = [];
  const flush = () => {
    if (objs.length === 0) return;
    const disk = objs[0]!.type === 'MSFT_Disk';
    const keys = names.length > 0 ? names : disk && view !== 'list' ? DISK_VIEW : Object.keys(objs[0]!.props);
    const asList = view === 'list' || (view === undefined && !disk && keys.length > 4);
    out.push(asList ? list(objs, names) : table(objs, keys));
    objs = [];
  };
  for (const v of values) {
    if (isObj(v)) objs.push(v);
    else {
      flush();
      out.push(`${show(v)}\n`);
    }
  }
  flush();
  return out.join('');
}

/** Runs one statement: a pipeline, or `(pipeline).Member` / `@(pipeline).Member`. */
function statement(text: string, env: { disks: PsObject[] }): PsValue[] {
  const member = /^@?\(([\s\S]*)\)((?:\.\w+)+)$/.exec(text);
  const pipeline = member ? member[1]! : text;
  let values: PsValue[] = [];
  for (const s of splitTop(pipeline, '|')) {
    if (s === '') throw new PsError('An empty pipe element is not allowed.');
    values = stage(s, env)(values);
  }
  if (!member) return values;
  for (const name of member[2]!.split('.').filter(Boolean)) {
    if (/^(count|length)$/i.test(name) && !(values.length === 1 && isObj(values[0]!) && prop(values[0]!, name) !== null)) values = [values.length];
    else values = values.map((v) => prop(v, name)).filter((v) => v !== null);
  }
  return values;
}

/** Runs a `-Command` script against the guest's disks. */
export function runPowerShell(script: string, disks: readonly GuestDisk[], uefi: boolean): ProcessResult {
  const env = { disks: diskObjects(disks, uefi) };
  let out = '';
  try {
    for (const st of splitTop(script, ';')) {
      if (st === '') continue;
      out += format(statement(st, env));
    }
  } catch (e) {
    if (!(e instanceof PsError)) throw e;
    return { exitcode: 1, out: crlf(out), err: crlf(`${e.message}\nAt line:1 char:1\n    + CategoryInfo          : NotSpecified: (:) [], RuntimeException\n`) };
  }
  return { exitcode: 0, out: crlf(out), err: '' };
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/**
 * `powershell.exe` argument handling: `-NoProfile`, `-NonInteractive`, `-NoLogo`,
 * `-ExecutionPolicy X`, `-OutputFormat X`, then `-Command <rest...>` (or the rest as command),
 * `-Command -` (script from stdin) or `-EncodedCommand <base64 UTF-16LE>`.
 */
export function powershellScript(args: readonly string[], stdin: string | undefined): string | { error: string } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.toLowerCase();
    if (['-noprofile', '-nop', '-noninteractive', '-nologo', '-noni'].includes(a)) continue;
    if (['-executionpolicy', '-ep', '-outputformat', '-inputformat', '-windowstyle'].includes(a)) {
      i++;
      continue;
    }
    if (a === '-command' || a === '-c') {
      const rest = args.slice(i + 1);
      if (rest.length === 1 && rest[0] === '-') return stdin ?? '';
      return rest.join(' ');
    }
    if (a === '-encodedcommand' || a === '-enc' || a === '-e') return Buffer.from(args[i + 1] ?? '', 'base64').toString('utf16le');
    if (a.startsWith('-')) return { error: `The simulated guest does not know the PowerShell parameter '${args[i]}'.` };
    return args.slice(i).join(' ');
  }
  return stdin ?? '';
}
