// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The installed pve-qemu-kvm package per node, as `/nodes/{node}/apt/versions` reports it. By default
 * every node has the release's package (`SimState.release.pveQemuKvm`); `simulate --pve-qemu-version`
 * (or `SimulatorOptions.pveQemuVersion`) sets one version for all nodes or one per node, so the
 * version-aware risk rules can be tested end to end.
 */
import type { SimState } from './state.js';

/** One Debian version for every node, or node -> version. */
export type PveQemuSpec = string | Readonly<Record<string, string>>;

const VERSION_RE = /^(?:\d+:)?\d+\.\d+\.\d+(?:-[A-Za-z0-9.+~]+)?$/;
const byState = new WeakMap<SimState, PveQemuSpec>();

/**
 * Parses `10.1.2-4` or `pve1=10.1.2-4,pve2=10.2.1-1`.
 * @throws Error naming the part that is not a version or not NODE=VERSION
 */
export function parsePveQemuSpec(text: string): PveQemuSpec {
  if (!text.includes('=')) {
    if (!VERSION_RE.test(text.trim())) throw new Error(`'${text}' is not a pve-qemu-kvm version such as 10.1.2-4`);
    return text.trim();
  }
  const out: Record<string, string> = {};
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const [node, version, ...rest] = part.split('=').map((p) => p.trim());
    if (!node || !version || rest.length > 0 || !VERSION_RE.test(version)) throw new Error(`'${part}' is not NODE=VERSION such as pve1=10.1.2-4`);
    out[node] = version;
  }
  return out;
}

/** The upstream QEMU of a version given for every node (`10.1.2-4` -> `10.1.2`); null for a per-node spec. */
export function upstreamOfSpec(spec: PveQemuSpec): string | null {
  return typeof spec === 'string' ? spec.replace(/^\d+:/, '').replace(/-[^-]*$/, '') : null;
}

/**
 * Installs the spec on a simulator state.
 * @throws Error when a per-node spec names a node the cluster does not have
 */
export function setPveQemu(state: SimState, spec: PveQemuSpec): void {
  if (typeof spec !== 'string') {
    const unknown = Object.keys(spec).filter((n) => !state.nodes.some((x) => x.name === n));
    if (unknown.length > 0) throw new Error(`pve-qemu-kvm version for unknown node ${unknown.join(', ')} (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
  }
  byState.set(state, spec);
}

/** The package version `node` reports. */
export function pveQemuOf(state: SimState, node: string): string {
  const spec = byState.get(state);
  if (spec === undefined) return state.release.pveQemuKvm;
  return typeof spec === 'string' ? spec : (spec[node] ?? state.release.pveQemuKvm);
}
