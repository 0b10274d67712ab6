// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Controlled exits of the CLI. Anything else that escapes a command is a bug and is printed with
 * its stack by main.ts.
 */

/** Ends the run with `code`; `message` (if any) is printed on stderr without a stack. */
export class ExitError extends Error {
  readonly code: number;
  constructor(code: number, message = '') {
    super(message);
    this.name = 'ExitError';
    this.code = code;
  }
}

/** Wrong or missing options/arguments: exit code 2, message plus a hint to `--help`. */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(2, message);
    this.name = 'UsageError';
  }
}
