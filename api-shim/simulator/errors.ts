// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Errors as PVE raises them. The HTTP status and the text are what a client sees: the first line
 * of `message` becomes the HTTP reason phrase, new servers (pve-http-server >= 5.2) also put the
 * whole text in the body's `message`, and parameter errors carry a per-parameter `errors` object.
 */

/** An error answered the way PVE's API server answers it. */
export class PveError extends Error {
  /**
   * @param status HTTP status code (400 parameters, 401 auth, 403 permission, 500 any `die`, 501 unknown path).
   * @param message Full text as PVE has it, usually ending in '\n'.
   * @param errors Per-parameter messages (400 only).
   */
  constructor(
    public readonly status: number,
    message: string,
    public readonly errors?: Record<string, string>,
  ) {
    super(message);
    this.name = 'PveError';
  }
}

/** HTTP 400 `Parameter verification failed.` with per-parameter messages. */
export function paramError(errors: Record<string, string>): PveError {
  return new PveError(400, 'Parameter verification failed.\n', errors);
}

/** HTTP 500, a plain Perl `die` inside a handler (e.g. `VM is locked (backup)`). */
export function dieError(text: string): PveError {
  return new PveError(500, text.endsWith('\n') ? text : `${text}\n`);
}

/** HTTP 403 `Permission check failed (/vms/100, VM.Config.Disk)`. */
export function permissionError(path: string, privs: readonly string[]): PveError {
  return new PveError(403, `Permission check failed (${path}, ${privs.join('|')})\n`);
}

/** The 500 PVE gives for a VM that has no config file on that node. */
export function configMissingError(node: string, vmid: number): PveError {
  return dieError(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
}

/** Marker for 401 answers; `emptyBody` mimics the bare answer to a bad API token. */
export class AuthError extends PveError {
  constructor(
    message: string,
    public readonly emptyBody: boolean,
  ) {
    super(401, `${message}\n`);
    this.name = 'AuthError';
  }
}
