// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `--pve-qemu-version`: the installed pve-qemu-kvm package, which the version-aware risk rules
 * need (docs/risk-model.md). Either one Debian version for every node (`10.1.2-4`), or one per node
 * (`pve1=10.1.2-4,pve2=10.2.1-1`; a node not named stays "not checked"). On a node:
 * `pveversion -v | grep pve-qemu-kvm`, or `dpkg-query -W pve-qemu-kvm`.
 */
import { parseDebianVersion } from '../analysis/debian-version.js';
import type { PveQemuPackage } from '../analysis/risk/types.js';
import type { PveQemuOption } from '../audit/pve-qemu-env.js';
import { parseVersion } from '../analysis/version.js';
import { UsageError } from './errors.js';


const SOURCE = '--pve-qemu-version';
const NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

function version(text: string, what: string): string {
  const v = text.trim();
  const parsed = parseDebianVersion(v);
  if (!parsed || !parseVersion(parsed.upstream)) {
    throw new UsageError(
      `--pve-qemu-version: ${what}'${text}' is not a pve-qemu-kvm version such as 10.1.2-4 (on the node: pveversion -v | grep pve-qemu-kvm)`,
    );
  }
  return v;
}

/** Parses the option; undefined when not given. */
export function parsePveQemuOption(text: string | undefined): PveQemuOption | undefined {
  if (text === undefined) return undefined;
  if (!text.includes('=')) return { all: { version: version(text, ''), source: SOURCE } };
  const byNode: Record<string, PveQemuPackage> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const node = eq < 0 ? '' : part.slice(0, eq).trim();
    if (!NODE_RE.test(node)) {
      throw new UsageError(`--pve-qemu-version: '${part}' is not NODE=VERSION (e.g. pve1=10.1.2-4,pve2=10.2.1-1), nor one version for every node`);
    }
    if (byNode[node]) throw new UsageError(`--pve-qemu-version: node '${node}' is given twice`);
    byNode[node] = { version: version(part.slice(eq + 1), `${node}: `), source: `${SOURCE} ${node}=` };
  }
  return { byNode };
}
