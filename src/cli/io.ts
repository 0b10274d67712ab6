// SPDX-License-Identifier: AGPL-3.0-or-later
/** Where the CLI writes, so tests can capture output without touching process streams. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stdout is a terminal: colours and the table's wide layout are allowed. */
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

/** The real process streams. */
export function processIO(): CliIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
  };
}

/** Colours only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColor(io: CliIO): boolean {
  return io.isTTY && !io.env.NO_COLOR;
}
