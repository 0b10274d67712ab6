// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The installed pve-qemu-kvm given by the caller (`--pve-qemu-version`), applied to the analysis
 * env: for every node or per node. Online it overrides what `/nodes/{node}/apt/versions` said.
 */
import { parseDebianVersion } from '../analysis/debian-version.js';
import type { PveQemuPackage } from '../analysis/risk/types.js';
import type { AnalysisEnv, Version } from '../analysis/types.js';
import { parseVersion } from '../analysis/version.js';

/** One package for every node, or per node. Versions are valid Debian versions with an X.Y.Z upstream. */
export interface PveQemuOption {
  all?: PveQemuPackage;
  byNode?: Record<string, PveQemuPackage>;
}

/** The upstream QEMU of a package version (`10.1.2-4` -> [10, 1, 2]). */
function upstream(pkg: PveQemuPackage): Version {
  return parseVersion(parseDebianVersion(pkg.version)!.upstream)!;
}

/**
 * The env with the option applied. It also says which QEMU the node runs, so without
 * `--qemu-version` (`qemuGiven` false) the installed QEMU follows it (per node when per node).
 */
export function withPveQemu(env: AnalysisEnv, opt: PveQemuOption | undefined, qemuGiven: boolean): AnalysisEnv {
  if (!opt) return env;
  const out: AnalysisEnv = { ...env };
  if (opt.all) {
    out.pveQemu = opt.all;
    delete out.pveQemuByNode;
    delete out.pveQemuUnknown;
    if (!qemuGiven) {
      out.installedQemu = upstream(opt.all);
      out.installedQemuAssumed = false;
      delete out.installedQemuByNode;
    }
    return out;
  }
  out.pveQemuByNode = { ...env.pveQemuByNode, ...opt.byNode };
  if (env.pveQemuUnknown) {
    out.pveQemuUnknown = Object.fromEntries(Object.entries(env.pveQemuUnknown).filter(([n]) => !opt.byNode![n]));
  }
  if (!qemuGiven) {
    out.installedQemuByNode = { ...env.installedQemuByNode, ...Object.fromEntries(Object.entries(opt.byNode!).map(([n, p]) => [n, upstream(p)])) };
  }
  return out;
}
