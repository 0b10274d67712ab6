// SPDX-License-Identifier: AGPL-3.0-or-later
/** Process entry of the CLI (bundled to dist/cli.js): runs the command table, maps errors to exit codes. */
import { runCli } from './cli.js';
import { processIO } from './io.js';

// `pve-dataplane audit | head`: the reader went away. That is the reader's choice, not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  process.exitCode = await runCli(process.argv.slice(2), processIO());
} catch (err) {
  // Not an ExitError/UsageError: a bug. Show everything that helps to report it.
  process.stderr.write(`pve-dataplane: internal error (please report it with the command you ran):\n${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
}
