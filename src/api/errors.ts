// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Typed PVE API errors. Every failure of a request is normalised once, here, into one of these
 * classes, so callers branch on `instanceof` instead of parsing texts.
 *
 * Where the text comes from (docs/how-qemu-server-decides.md#api):
 * - PVE <= 8.2 puts the error only in the HTTP reason phrase (first line of the message) and
 *   answers `{"data":null}`;
 * - libpve-http-server-perl >= 5.2.0 (PVE 8.3+/9) additionally sends the full text as body `message`;
 * - 400s carry per-parameter texts in body `errors` (which may or may not end in `\n`);
 * - a bad API token gets a 401 with an EMPTY body and no Content-Type.
 */

/** Per-parameter error texts of a 400, keyed by parameter name (trailing newlines removed). */
export type FieldErrors = Record<string, string>;

/** What a failed task left behind (set on errors thrown by `waitForTask`). */
export interface TaskFailure {
  upid: string;
  /** `exitstatus` of the task, e.g. `command 'qm start 100' failed: exit code 1`. */
  exitStatus: string;
  /** The last lines of the task log, oldest first. */
  logTail: string[];
}

export interface PveErrorInit {
  /** HTTP status; 0 when no HTTP answer was received (network, TLS, timeout, task). */
  status: number;
  /** The error text without status suffix (PVE's message, or a description of the failure). */
  text: string;
  fieldErrors?: FieldErrors;
  method: string;
  /** API path relative to `/api2/json`, e.g. `/nodes/pve1/qemu/100/config`. */
  path: string;
  task?: TaskFailure;
  cause?: unknown;
}

/**
 * Base class of every API failure. `message` reads like PVE's own UI (`extractRequestError`):
 * `text (status)` plus one `param: text` line per field error.
 */
export class PveApiError extends Error {
  // Explicit names: class names do not survive minification of the CLI bundle.
  override name = 'PveApiError';
  /** HTTP status; 0 when there was no HTTP answer. */
  readonly status: number;
  /** PVE's error text (first line of the reason phrase, or the full body `message`). */
  readonly text: string;
  readonly fieldErrors: FieldErrors;
  readonly method: string;
  readonly path: string;
  readonly task?: TaskFailure;

  constructor(init: PveErrorInit) {
    super(formatPveMessage(init.text, init.status, init.fieldErrors ?? {}), { cause: init.cause });
    this.status = init.status;
    this.text = init.text;
    this.fieldErrors = init.fieldErrors ?? {};
    this.method = init.method;
    this.path = init.path;
    if (init.task) this.task = init.task;
  }

  /** `GET /nodes/pve1/qemu/100/pending` - the request that failed, for error reports. */
  get request(): string {
    return `${this.method} ${this.path}`;
  }
}

/** 400 `Parameter verification failed.`; `fieldErrors` holds the per-parameter texts. */
export class PveParamError extends PveApiError {
  override name = 'PveParamError';
}

/**
 * 401: no ticket, bad token (`Authentication failed!`, `invalid token value!`), bad login
 * (`authentication failure`), or a ticket write without CSRF token
 * (`Permission denied - invalid csrf token`). PVE delays every 401 by about 3 s.
 */
export class PveAuthError extends PveApiError {
  override name = 'PveAuthError';
}

/** 403 `Permission check failed (/vms/100, VM.Config.Disk)`. */
export class PvePermissionError extends PveApiError {
  override name = 'PvePermissionError';
  /** ACL path that was checked (`/vms/100`), or null when PVE gave no detail. */
  readonly aclPath: string | null;
  /** The privilege text as PVE printed it (`VM.Config.Disk`, or several joined by `|`), or null. */
  readonly privilege: string | null;
  /** `privilege` split into single privilege names. */
  readonly privileges: string[];

  constructor(init: PveErrorInit) {
    super(init);
    const m = /Permission check failed \(([^,)]+),\s*([^)]+)\)/.exec(init.text);
    this.aclPath = m ? m[1]!.trim() : null;
    this.privilege = m ? m[2]!.trim() : null;
    this.privileges = this.privilege ? this.privilege.split(/\s*[|,]\s*/).filter(Boolean) : [];
  }
}

/**
 * The config changed since it was read: `checksum mismatch (file change by other user?)`,
 * the PVE 8.0-8.2 spelling `checksum missmatch`, or `detected modified configuration - file changed
 * by other user? Try again.` (assert_if_modified). Re-read the config and plan again.
 */
export class PveDigestMismatchError extends PveApiError {
  override name = 'PveDigestMismatchError';
}

/** `VM is locked (backup)`; `lock` names the lock (backup, migrate, snapshot, clone, ...). */
export class PveLockedError extends PveApiError {
  override name = 'PveLockedError';
  readonly lock: string;

  constructor(init: PveErrorInit) {
    super(init);
    this.lock = /\b(?:VM|CT) is locked \(([^)]+)\)/.exec(init.text)?.[1] ?? 'unknown';
  }
}

/**
 * The object does not exist: PVE answers a missing VM with 500 `Configuration file
 * 'nodes/pve/qemu-server/101.conf' does not exist` (not 404), an unknown path with 501
 * `Method 'GET /foo' not implemented`, an unknown task with 400 `no such task`.
 */
export class PveNotFoundError extends PveApiError {
  override name = 'PveNotFoundError';
}

export type ConnectionFailure = 'timeout' | 'reset' | 'refused' | 'tls' | 'aborted' | 'network';

/** No usable HTTP answer: network error, timeout, TLS failure or abort. `status` is 0. */
export class PveConnectionError extends PveApiError {
  override name = 'PveConnectionError';
  readonly kind: ConnectionFailure;
  /** True when the request may have reached PVE (a write may then have been applied). */
  readonly maybeSent: boolean;

  constructor(init: PveErrorInit & { kind: ConnectionFailure; maybeSent: boolean }) {
    super(init);
    this.kind = init.kind;
    this.maybeSent = init.maybeSent;
  }
}

/** A task (UPID) ended with an error exit status that is not one of the typed cases above. */
export class PveTaskError extends PveApiError {
  override name = 'PveTaskError';
}

/** PVE UI style: `message (status)` then one `param: text` line per field error. */
function formatPveMessage(text: string, status: number, fieldErrors: FieldErrors): string {
  const head = status > 0 ? `${text} (${status})` : text;
  const lines = Object.entries(fieldErrors).map(([k, v]) => `${k}: ${v}`);
  return [head, ...lines].join('\n');
}

/** Class to use for a PVE error text, independent of where it came from (HTTP or task exit). */
export function errorClassForText(text: string): typeof PveApiError | null {
  if (/checksum mis{1,2}match|detected modified configuration/.test(text)) return PveDigestMismatchError;
  if (/\b(?:VM|CT) is locked \(/.test(text)) return PveLockedError;
  if (/^Configuration file '[^']*' does not exist/m.test(text) || /^no such task/m.test(text)) {
    return PveNotFoundError;
  }
  return null;
}

/** Class for an HTTP error answer. Status decides first, except for the recognised 500 texts. */
export function errorClassForStatus(status: number, text: string): typeof PveApiError {
  const byText = errorClassForText(text);
  if (byText === PveNotFoundError) return byText;
  switch (status) {
    case 400:
      return PveParamError;
    case 401:
      return PveAuthError;
    case 403:
      return PvePermissionError;
    case 404:
    case 501:
      return PveNotFoundError;
    default:
      return byText ?? PveApiError;
  }
}

/** Removes the trailing newline PVE leaves on `die` texts and per-field texts. */
export function trimPveText(text: string): string {
  return text.replace(/\s+$/, '');
}

/**
 * Builds the typed error for an HTTP error answer.
 * @param reason HTTP reason phrase (old PVE: the only place of the text)
 * @param body parsed JSON body, or null when empty / not JSON
 */
export function errorFromResponse(
  method: string,
  path: string,
  status: number,
  reason: string,
  body: unknown,
): PveApiError {
  const obj = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  // The body `message` is the full text (multi-line); the reason phrase holds only its first line.
  const bodyMessage = typeof obj['message'] === 'string' ? trimPveText(obj['message']) : '';
  const text = bodyMessage || trimPveText(reason) || defaultReason(status);
  const fieldErrors: FieldErrors = {};
  const errs = obj['errors'];
  if (errs !== null && typeof errs === 'object') {
    for (const [k, v] of Object.entries(errs as Record<string, unknown>)) {
      fieldErrors[k] = trimPveText(typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  const Cls = errorClassForStatus(status, text);
  return new Cls({ status, text, fieldErrors, method, path });
}

function defaultReason(status: number): string {
  if (status === 401) return 'Authentication failed';
  if (status === 403) return 'Permission denied';
  if (status >= 500) return 'Internal server error';
  return 'Unknown error';
}
