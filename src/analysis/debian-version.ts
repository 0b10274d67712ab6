// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Debian package versions (`[epoch:]upstream[-revision]`, e.g. `10.1.2-5`, `1:2.0~rc1-1`) and their
 * order exactly as dpkg defines it (deb-version(7); dpkg lib/dpkg/version.c `verrevcmp`): epochs
 * numerically, then upstream and revision by alternating non-digit and digit runs, where `~` sorts
 * before everything (even the end of the string), letters before other characters, and digit
 * runs compare as numbers.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** `''` when the version has no `-revision` (dpkg then compares it like `0`). */
  revision: string;
}

const UPSTREAM_RE = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION_RE = /^[A-Za-z0-9.+~]+$/;

/**
 * Parses a Debian version; null when it is not one (empty, upstream not starting with a digit,
 * characters dpkg does not allow, `:` without a numeric epoch, `-` at the end).
 */
export function parseDebianVersion(text: string): DebianVersion | null {
  const t = text.trim();
  if (t === '' || /\s/.test(t)) return null;
  let epoch = 0;
  let rest = t;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    const e = t.slice(0, colon);
    if (!/^\d+$/.test(e)) return null;
    epoch = Number(e);
    rest = t.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (!UPSTREAM_RE.test(upstream) || (dash >= 0 && !REVISION_RE.test(revision))) return null;
  // An upstream part may hold `:` only when there is an epoch (deb-version(7)); the first `:` ended it.
  return { epoch, upstream, revision };
}

/** dpkg's weight of one character of a non-digit run; undefined = end of the string. */
function order(c: string | undefined): number {
  if (c === undefined || (c >= '0' && c <= '9')) return 0;
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** dpkg `verrevcmp`: compares two upstream (or two revision) strings. */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Negative, zero or positive like a sort comparator (dpkg --compare-versions). */
export function compareDebianVersions(a: DebianVersion, b: DebianVersion): number {
  return Math.sign(a.epoch - b.epoch || compareParts(a.upstream, b.upstream) || compareParts(a.revision, b.revision));
}

/**
 * Compares two version strings.
 * @throws Error naming the text that is not a Debian version
 */
export function compareDebianVersionText(a: string, b: string): number {
  const pa = parseDebianVersion(a);
  const pb = parseDebianVersion(b);
  if (!pa) throw new Error(`'${a}' is not a Debian version`);
  if (!pb) throw new Error(`'${b}' is not a Debian version`);
  return compareDebianVersions(pa, pb);
}
