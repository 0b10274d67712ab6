// SPDX-License-Identifier: AGPL-3.0-or-later
/** A CliIO that records what the CLI prints. */
import type { CliIO } from '../../../src/cli/io.js';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
}

export function captureIO(opts: { isTTY?: boolean; env?: Record<string, string | undefined> } = {}): CapturedIO {
  let out = '';
  let err = '';
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    out: () => out,
    err: () => err,
  };
}
