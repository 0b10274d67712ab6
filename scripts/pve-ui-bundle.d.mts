// SPDX-License-Identifier: AGPL-3.0-or-later
/** Builds the PVE-UI bundle (see pve-ui-bundle.mjs). */
export function buildPveUiBundle(outfile: string, o?: { minify?: boolean; sourcemap?: boolean }): Promise<unknown>;
