// SPDX-License-Identifier: AGPL-3.0-or-later
import { once } from 'node:events';
import { fstatSync, writeSync } from 'node:fs';

/** Where the CLI writes, so tests can capture output without touching process streams. */
export interface CliIO {
  stdout(text: string): void;
  /** Bytes (UTF-8 text) for stdout; absent: they go through `stdout` as text. */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(text: string): void;
  /** stdout is a terminal: colours and the table's wide layout are allowed. */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** Width of the terminal stdout is (absent when piped). */
  columns?: number;
  /** Long-running commands (serve, demo, simulate) stop when this resolves; absent: on SIGINT/SIGTERM. */
  stopped?: Promise<void>;
  /**
   * Resolves once stdout has passed on what it was given (a pipe into a slower reader, such as
   * `| jq`, would otherwise buffer a whole 40 MB document in memory); absent: writing never waits.
   */
  drained?(): Promise<void>;
  /**
   * A writer to stdout that may hold text until `flush` (stdout is a regular file): many small
   * texts cost one write. Flush before anything else is written (stderr may be the same file).
   */
  stdoutBatch?(): StdoutBatch;
}

/** Text for stdout, held until `flush`. */
export interface StdoutBatch {
  write(text: string): void;
  flush(): void;
}

/** True when file descriptor `fd` is a regular file (output redirected with `> file`). */
function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/**
 * Text to stdout when it is a regular file: UTF-8 into one reused buffer, written when full or on
 * `flush`. process.stdout writes a file synchronously too, but makes a new buffer per write after
 * measuring the text's UTF-8 length in a pass of its own: 13% of a 40 MB JSON audit (texts with
 * `→` are two-byte strings in V8, the slow case).
 */
function fileBatch(fd: number): StdoutBatch {
  let buffer = Buffer.allocUnsafe(256 * 1024);
  let used = 0;
  const flush = (): void => {
    for (let done = 0; done < used; ) done += writeSync(fd, buffer, done, used - done);
    used = 0;
  };
  return {
    write(text) {
      // At most 3 UTF-8 bytes per UTF-16 unit.
      if (used + text.length * 3 > buffer.length) {
        flush();
        if (text.length * 3 > buffer.length) buffer = Buffer.allocUnsafe(text.length * 3);
      }
      used += buffer.write(text, used, 'utf8');
    },
    flush,
  };
}

/** The real process streams. */
export function processIO(): CliIO {
  const batch = isRegularFile(1) ? fileBatch(1) : null;
  return {
    stdout: batch
      ? (t) => {
          batch.write(t);
          batch.flush();
        }
      : (t) => void process.stdout.write(t),
    ...(batch ? { stdoutBatch: () => batch } : {}),
    stdoutBytes: (b) => void process.stdout.write(b),
    stderr: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
    drained: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
  };
}

/** Output wider than this is wrapped when the width is not known (piped, no COLUMNS). */
export const DEFAULT_WIDTH = 120;

/**
 * The width text output should fit: the terminal's, else `COLUMNS`, else 120 (a pipe into a pager
 * or a mail stays readable; json/csv are the formats for scripts).
 */
export function outputWidth(io: CliIO): number {
  if (io.columns !== undefined && io.columns > 0) return io.columns;
  const env = Number(io.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_WIDTH;
}

/** Colours only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColor(io: CliIO): boolean {
  return io.isTTY && !io.env.NO_COLOR;
}

/** Resolves when `io.stopped` does, else on SIGINT/SIGTERM (serve, demo, simulate run until then). */
export function untilStopped(io: Pick<CliIO, 'stopped'>): Promise<void> {
  if (io.stopped) return io.stopped;
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
