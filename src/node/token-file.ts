// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Reads a PVE API token from a file (`--token-file`), so the secret never appears in the process
 * list or the shell history. Errors name the file and line, never the secret.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseApiToken } from '../api/auth.js';

export interface TokenFileResult {
  /** `USER@REALM!TOKENID=SECRET`. */
  token: string;
  /** Set when the file is readable by group or others (like ssh, we say so but go on). */
  warning?: string;
}

/**
 * The first line that is neither blank nor a `#` comment must be the token, optionally prefixed
 * with `PVEAPIToken=` or `PVE_TOKEN=` (so an env file works too).
 * @throws Error naming the file (and line) when it is unreadable or holds no valid token
 */
export async function readTokenFile(path: string): Promise<TokenFileResult> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mode)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`--token-file ${path}: ${why}`);
  }
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (index < 0) throw new Error(`--token-file ${path}: the file is empty; put USER@REALM!TOKENID=SECRET on its first line`);
  const raw = lines[index]!.trim().replace(/^(?:export\s+)?PVE_TOKEN=/, '').replace(/^(['"])(.*)\1$/, '$2');
  try {
    const t = parseApiToken(raw);
    const token = `${t.tokenId}=${t.secret}`;
    const loose = (mode & 0o077) !== 0;
    return loose
      ? { token, warning: `--token-file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}` }
      : { token };
  } catch (err) {
    throw new Error(`--token-file ${path}, line ${index + 1}: ${(err as Error).message}`);
  }
}
