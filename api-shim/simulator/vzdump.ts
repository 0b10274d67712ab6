// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `GET /nodes/{node}/vzdump/defaults` as pve-manager's API2/VZDump.pm `defaults` answers it:
 * PVE::VZDump::read_vzdump_defaults (the schema defaults, overridden by the node's
 * `/etc/vzdump.conf`), `storage` defaulting to `local` when neither storage nor dumpdir is set,
 * `dumpdir`/`prune-backups` from that storage, `fleecing`/`performance` as property strings
 * (default key printed bare, so the built-in fleecing default reads `0`), and the keys a caller
 * without Sys.Audit on the node (or Pool.Audit on the pool) does not get.
 */
import { privilegesOn, type Principal } from './acl.js';
import { requireAnyPriv } from './config-update.js';
import { dieError } from './errors.js';
import type { SimState } from './state.js';

/** Defaults of the vzdump schema (`default` of each property in the 9.1 apidoc). */
const SCHEMA_DEFAULTS: Record<string, string> = {
  all: '0', bwlimit: '0', compress: '0', ionice: '7', lockwait: '180', mailnotification: 'always', mode: 'snapshot',
  'notification-mode': 'auto', pigz: '0', 'prune-backups': 'keep-all=1', quiet: '0', remove: '1', stdexcludes: '1',
  stop: '0', stopwait: '10', zstd: '1',
};

/** Sub-key defaults of the backup-performance and backup-fleecing formats. */
const FORMAT_DEFAULTS: Record<string, Record<string, string>> = {
  performance: { 'max-workers': '16', 'pbs-entries-max': '1048576' },
  fleecing: { enabled: '0' },
};

/** Default key of each property-string option (printed without `key=`). */
const DEFAULT_KEY: Record<string, string> = { fleecing: 'enabled' };

/** Keys whose JSON value is a number (integers and 0/1 booleans). */
const NUMERIC = new Set(['all', 'bwlimit', 'ionice', 'lockwait', 'maxfiles', 'pigz', 'protected', 'quiet', 'remove', 'stdexcludes', 'stop', 'stopwait', 'zstd']);

/** Keys hidden from callers without Sys.Audit on the node ("normal backup users don't need to know these"). */
const NEEDS_SYS_AUDIT = ['mailto', 'tmpdir', 'dumpdir', 'script', 'ionice'];

/** `/etc/vzdump.conf`: `key: value` lines, `#` comments. */
function parseVzdumpConf(text: string, node: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([a-z][a-z0-9_-]*):\s*(.*)$/.exec(line);
    if (!m) throw new Error(`vzdump.conf of node ${node}, line ${i + 1}: '${line}' is not 'key: value'`);
    out[m[1]!] = m[2]!;
  });
  return out;
}

function parseProps(value: string, defaultKey: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0 && defaultKey) out[defaultKey] = part;
    else if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** print_property_string: the default key first and bare, then the others sorted. */
function printProps(props: Record<string, string>, defaultKey: string | undefined): string {
  const parts: string[] = [];
  if (defaultKey && props[defaultKey] !== undefined) parts.push(props[defaultKey]!);
  for (const k of Object.keys(props).sort()) if (k !== defaultKey) parts.push(`${k}=${props[k]}`);
  return parts.join(',');
}

/** The answer of `GET /nodes/{node}/vzdump/defaults[?storage=]`. */
export function vzdumpDefaults(state: SimState, p: Principal, node: string, storageParam: string | undefined): Record<string, unknown> {
  const conf = parseVzdumpConf(state.nodes.find((n) => n.name === node)?.vzdumpConf ?? '', node);
  const res: Record<string, string> = { ...SCHEMA_DEFAULTS, ...conf };
  for (const [opt, defaults] of Object.entries(FORMAT_DEFAULTS)) {
    res[opt] = printProps({ ...defaults, ...parseProps(conf[opt] ?? '', DEFAULT_KEY[opt]) }, DEFAULT_KEY[opt]);
  }
  if (storageParam !== undefined) res.storage = storageParam;
  if (res.dumpdir === undefined && res.storage === undefined) res.storage = 'local';
  if (res.storage !== undefined) {
    requireAnyPriv(p, `/storage/${res.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace']);
    // PVE::VZDump::storage_info
    const s = state.storage.storages.get(res.storage);
    if (!s) throw dieError(`storage '${res.storage}' does not exist`);
    if (!s.content.includes('backup')) throw dieError(`can't use storage '${res.storage}' for backups - wrong content type`);
    if (s.props.path !== undefined && s.type !== 'pbs') res.dumpdir = `${s.props.path}/dump`;
    if (s.props['prune-backups'] !== undefined) res['prune-backups'] = s.props['prune-backups'];
  }
  if (!privilegesOn(p, `/nodes/${node}`).has('Sys.Audit')) for (const k of NEEDS_SYS_AUDIT) delete res[k];
  if (res.pool !== undefined && !privilegesOn(p, `/pool/${res.pool}`).has('Pool.Audit')) delete res.pool;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(res)) out[k] = NUMERIC.has(k) && /^-?\d+$/.test(v) ? Number(v) : v;
  return out;
}
