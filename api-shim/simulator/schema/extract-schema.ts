// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Regenerates `pve-api-params.json` (the request-parameter schemas the simulator validates
 * against) and `pve-api-returns.json` (the answer schemas of its GET endpoints, which the
 * contract tests check answers against) from a PVE API viewer schema file: pve-docs
 * `api-viewer/apidata.js`, as served at https://pve.proxmox.com/pve-docs/api-viewer/apidoc.js.
 *
 *     npx tsx api-shim/simulator/schema/extract-schema.ts path/to/apidata.js "pve-docs 9.1.3 (e5010dc)"
 *
 * Keeps only the endpoints the simulator implements and drops descriptions, so the result stays
 * small enough to ship with the simulator.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENDPOINTS } from './endpoints.js';

interface ApiNode {
  path: string;
  info?: Record<string, { parameters?: unknown; permissions?: unknown; returns?: unknown }>;
  children?: ApiNode[];
}

const DROP = new Set(['description', 'verbose_description', 'typetext', 'format_description', 'title']);

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // Only documentation strings go; a parameter that happens to be called `description` stays.
    for (const [k, v] of Object.entries(value)) if (!(DROP.has(k) && typeof v === 'string')) out[k] = strip(v);
    return out;
  }
  return value;
}

function find(nodes: ApiNode[], path: string): ApiNode | undefined {
  for (const n of nodes) {
    if (n.path === path) return n;
    const hit = n.children ? find(n.children, path) : undefined;
    if (hit) return hit;
  }
  return undefined;
}

const source = process.argv[2];
const label = process.argv[3] ?? 'PVE 9.1 apidoc.js';
if (!source) {
  process.stderr.write('usage: extract-schema.ts <apidata.js> [source label]\n');
  process.exit(2);
}
const text = readFileSync(source, 'utf8');
// The file is `const apiSchema = [ ... ]\n;` followed by viewer JS.
const start = text.indexOf('[');
const end = text.indexOf('\n]\n');
if (start < 0 || end < 0) throw new Error(`${source}: no 'const apiSchema = [ ... ]' array found`);
const schema = JSON.parse(text.slice(start, end + 2)) as ApiNode[];

const params: Record<string, unknown> = {};
const returns: Record<string, unknown> = {};
for (const { method, path } of ENDPOINTS) {
  const node = find(schema, path);
  const info = node?.info?.[method];
  if (!info) throw new Error(`${source}: no ${method} ${path} in the schema`);
  params[`${method} ${path}`] = strip(info.parameters ?? { properties: {} });
  if (method === 'GET') returns[`${method} ${path}`] = strip(info.returns ?? {});
}

/** One endpoint per line: small, and diffs stay readable when the schema is regenerated. */
function write(file: string, entries: Record<string, unknown>): void {
  const target = fileURLToPath(new URL(file, import.meta.url));
  const lines = Object.entries(entries).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  writeFileSync(target, `{"source": ${JSON.stringify(`${label} (api-viewer schema)`)}, "endpoints": {\n${lines.join(',\n')}\n}}\n`);
  process.stderr.write(`wrote ${Object.keys(entries).length} endpoints to ${target}\n`);
}
write('./pve-api-params.json', params);
write('./pve-api-returns.json', returns);
