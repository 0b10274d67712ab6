// SPDX-License-Identifier: AGPL-3.0-or-later
/** Builds dist/pve-dataplane_VERSION_all.deb (see package.mjs); resolves to its path. */
export function buildPackage(o?: { outDir?: string; stageDir?: string; version?: string }): Promise<string>;
