// SPDX-License-Identifier: AGPL-3.0-or-later
import type { ConfigIssue } from '../../pve/types.js';

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Control characters as `\xNN`: messages quote lines of files, and an escape sequence from a
 * broken or hostile config must not reach the terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A quoted value longer than this is cut (a 200k-character drive value must not flood stderr). */
const MAX_QUOTE = 200;
const QUOTE_RE = new RegExp(`'([^']{${MAX_QUOTE + 1},})'`, 'g');

/** `'xxxx…(5000 characters)'`: the start of an overlong quoted value and its length. */
function shortenQuotes(message: string): string {
  return message.replace(QUOTE_RE, (_m, q: string) => `'${q.slice(0, 80)}… (${q.length} characters)'`);
}

/**
 * One issue as a compiler-style line, `FILE:LINE: severity: KEY: message`, so editors and people
 * can jump to the place. Location or key already written into the message are not repeated.
 */
export function formatIssue(issue: ConfigIssue): string {
  let message = issue.message;
  if (issue.source !== undefined && issue.line !== undefined) {
    const prefix = `${issue.source} line ${issue.line}: `;
    if (message.startsWith(prefix)) message = message.slice(prefix.length);
  }
  if (issue.key !== undefined && !message.startsWith(`${issue.key}:`) && !message.startsWith(`${issue.key} `)) {
    message = `${issue.key}: ${message}`;
  }
  const where = [issue.source, issue.line].filter((p) => p !== undefined && p !== '').join(':');
  return escapeControl([where, issue.severity, shortenQuotes(message)].filter((p) => p !== '').join(': '));
}
