// SPDX-License-Identifier: AGPL-3.0-or-later
/** See stale-outputs.mjs. */
export const STALE_GRACE_MS: number;
export function removeStaleOutputs(dir: string, written: Iterable<string>, o: { keepNewerThan: number }): Promise<string[]>;
