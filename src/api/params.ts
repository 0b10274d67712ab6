// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Request parameter encoding the way PVE's API server reads it: GET/DELETE parameters in the
 * query string, POST/PUT parameters as an `application/x-www-form-urlencoded` body. PVE has no
 * JSON booleans on input: booleans are sent as `1`/`0`.
 */

/** One parameter value. `undefined` and `null` are left out; arrays repeat the key. */
export type ParamValue = string | number | boolean | null | undefined | readonly (string | number)[];

export type Params = Record<string, ParamValue>;

/** Encodes parameters as `a=1&b=x%2Cy` (also used for form bodies). Keys keep their order. */
export function encodeParams(params: Params | undefined): string {
  if (!params) return '';
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) out.append(key, String(v));
    } else if (typeof value === 'boolean') {
      out.append(key, value ? '1' : '0');
    } else {
      out.append(key, String(value));
    }
  }
  return out.toString();
}

/**
 * Builds an API path from a template and values, escaping each value once
 * (`/nodes/{node}/tasks/{upid}/status` with a UPID full of `:`).
 */
export function apiPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += encodeURIComponent(String(v)) + (strings[i + 1] ?? '');
  });
  return out;
}
